namespace LwsPlugins.Host.Plugins;

/// <summary>The life of one loaded version of a plugin.</summary>
internal enum PluginGenerationState
{
    Active,
    Draining,
    Unloading,
    Unloaded,
    Failed,
}
