namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>Per-vhost options of <c>lws-server-status</c>.</summary>
public sealed class ServerStatusOptions
{
    /// <summary>Milliseconds between two documents (lws's option of the same name).</summary>
    public int UpdateMs { get; set; } = 1000;

    /// <summary>After a change (a session, vhost or plugin), how long to wait for more before sending a document.</summary>
    public int ChangeCoalesceMs { get; set; } = 100;
}
