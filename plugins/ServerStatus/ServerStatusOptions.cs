namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>Per-vhost options of <c>lws-server-status</c>.</summary>
public sealed class ServerStatusOptions
{
    /// <summary>Milliseconds between two documents (lws's option of the same name).</summary>
    public int UpdateMs { get; set; } = 1000;
}
