namespace LwsPlugins.Sdk.Status;

/// <summary>One vhost.</summary>
public sealed class VhostStatus
{
    /// <summary>The vhost's name.</summary>
    public required string Name { get; init; }

    /// <summary>The listen endpoint, e.g. <c>127.0.0.1:7681</c>.</summary>
    public required string Listen { get; init; }

    /// <summary>The vhost's state: <c>serving</c> or <c>destroying</c>.</summary>
    public required string State { get; init; }

    /// <summary>The protocols the vhost serves.</summary>
    public required IReadOnlyList<ProtocolStatus> Protocols { get; init; }

    /// <summary>Open WebSocket sessions, all protocols together.</summary>
    public required int Sessions { get; init; }

    /// <summary>Payload bytes received from clients.</summary>
    public required long BytesIn { get; init; }

    /// <summary>Payload bytes sent to clients.</summary>
    public required long BytesOut { get; init; }

    /// <summary>Messages received from clients.</summary>
    public required long MessagesIn { get; init; }

    /// <summary>Messages sent to clients.</summary>
    public required long MessagesOut { get; init; }
}
