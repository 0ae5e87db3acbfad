namespace LwsPlugins.Host.Plugins;

/// <summary>
/// What a (re)load of a plugin folder did: <paramref name="Next"/> is the new generation (failed or active), or
/// <see langword="null"/> when the plugin was removed; <paramref name="Previous"/> is the generation that served before.
/// </summary>
internal sealed record PluginChange(PluginEntry Entry, PluginGeneration? Previous, PluginGeneration? Next)
{
    /// <summary>Whether vhosts must move to <see cref="Next"/> (it loaded) or drop the plugin (it was removed).</summary>
    public bool SwitchesGeneration => Next is null || Next.State == PluginGenerationState.Active;
}
