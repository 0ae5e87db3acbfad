using System.Net.WebSockets;
using System.Text.Json;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>
/// Sends the server-status document to every client of the vhost: on connect, every <c>updateMs</c>, and after a change
/// (coalesced: at most one extra document per <c>changeCoalesceMs</c>).
/// </summary>
public sealed class ServerStatusHandler : ProtocolHandler
{
    private readonly IServerStatusSource _server;
    private readonly SessionGroup _clients = new();
    private readonly ITimer _timer;
    private readonly ITimer _changeTimer;
    private readonly IDisposable _subscription;
    private readonly TimeSpan _coalesce;
    private int _changePending;

    /// <summary>Creates the vhost's instance and starts its tick.</summary>
    /// <param name="options">The vhost's options.</param>
    /// <param name="server">The host's status.</param>
    /// <param name="timeProvider">The host's clock.</param>
    public ServerStatusHandler(IOptions<ServerStatusOptions> options, IServerStatusSource server, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _server = server;
        var interval = TimeSpan.FromMilliseconds(options.Value.UpdateMs);
        _timer = timeProvider.CreateTimer(static state => ((ServerStatusHandler)state!).Push(), this, interval, interval);
        _coalesce = TimeSpan.FromMilliseconds(options.Value.ChangeCoalesceMs);
        _changeTimer = timeProvider.CreateTimer(static state => ((ServerStatusHandler)state!).PushChange(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _subscription = server.Subscribe(OnChange);
    }

    /// <inheritdoc />
    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        _clients.Add(session);
        session.TrySend(WebSocketMessageType.Text, Render());
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
    {
        _clients.Remove(session);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        _subscription.Dispose();
        await _changeTimer.DisposeAsync().ConfigureAwait(false);
        await _timer.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private void OnChange()
    {
        if (Interlocked.Exchange(ref _changePending, 1) == 0)
        {
            _changeTimer.Change(_coalesce, Timeout.InfiniteTimeSpan);
        }
    }

    private void PushChange()
    {
        Volatile.Write(ref _changePending, 0);
        Push();
    }

    private void Push()
    {
        if (_clients.Count > 0)
        {
            _clients.Broadcast(WebSocketMessageType.Text, Render());
        }
    }

    private byte[] Render()
    {
        var snapshot = _server.GetSnapshot();
        var document = ServerStatusDocument.From(snapshot);
        return JsonSerializer.SerializeToUtf8Bytes(document, ServerStatusJsonContext.Default.ServerStatusDocument);
    }
}
