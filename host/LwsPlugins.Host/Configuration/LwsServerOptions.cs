namespace LwsPlugins.Host.Configuration;

/// <summary>The server's configuration: where plugins live and the vhosts to create at start.</summary>
public sealed class LwsServerOptions
{
    /// <summary>The folder holding one sub-folder per plugin; relative paths are relative to the server's base directory.</summary>
    public string PluginsPath { get; set; } = "plugins";

    /// <summary>The vhosts created at start, in order.</summary>
    public IList<VhostOptions> Vhosts { get; set; } = [];
}
