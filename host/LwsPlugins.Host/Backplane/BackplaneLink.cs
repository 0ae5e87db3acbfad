using System.Net.WebSockets;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Backplane;

/// <summary>A group's membership of a channel. Disposing it drops the delegate to the group, so nothing of a plugin stays referenced.</summary>
internal sealed class BackplaneLink(
    BackplaneBase owner, BackplaneChannel channel, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver, Action<string>? lost = null) : IFanOutLink
{
    private Action<WebSocketMessageType, ReadOnlyMemory<byte>>? _deliver = deliver;
    private Action<string>? _lost = lost;
    private Action<BackplaneLink>? _disposed;

    public BackplaneChannel Channel { get; } = channel;

    public bool IsDisposed => Volatile.Read(ref _deliver) is null;

    /// <summary>Called once when the link is disposed (the protocol instance that tracks it forgets it).</summary>
    public void OnDisposed(Action<BackplaneLink> disposed) => _disposed = disposed;

    public bool TryPublish(string? senderId, WebSocketMessageType type, ReadOnlyMemory<byte> payload)
        => !IsDisposed && owner.Publish(Channel, senderId, type, payload);

    public void Deliver(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
        => Volatile.Read(ref _deliver)?.Invoke(type, payload);

    /// <summary>Tells the group that messages to it were lost beyond recovery; <see langword="false"/> when it cannot be told.</summary>
    public bool ReportLost(string reason)
    {
        if (Volatile.Read(ref _lost) is not { } lost || IsDisposed)
        {
            return false;
        }

        lost(reason);
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _deliver, null) is not null)
        {
            Volatile.Write(ref _lost, null);
            owner.Leave(this);
            Interlocked.Exchange(ref _disposed, null)?.Invoke(this);
        }
    }
}
