namespace LwsPlugins.Browser.Tests;

/// <summary>The test's server starts without this bundled plugin in its plugins folder (the test may drop it in later).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class WithoutPluginAttribute(string pluginId) : PropertyAttribute(PropertyName, pluginId)
{
    /// <summary>The NUnit property the fixture reads before it starts the server.</summary>
    public const string PropertyName = "WithoutPlugin";

    public string PluginId { get; } = pluginId;
}
