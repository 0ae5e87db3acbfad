using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Sessions;

/// <summary>
/// One accepted WebSocket: a receive loop that reassembles messages up to the vhost's limit and hands them to the
/// protocol handler, and a write loop that drains the bounded send queue. Only the write loop writes to the socket, so
/// queued messages, echoed close frames and our own close frames go out in order.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The Ended token must stay readable after the session ends; a cancelled source without timers, and a semaphore whose wait handle is never created, hold nothing to release.")]
internal sealed class WebSocketSession : IWebSocketSession, IThreadPoolWorkItem
{
    private const int ReceiveBufferSize = 4096;
    private const int MaxCloseReasonBytes = 123;
    private static long s_lastId;

    /// <summary>
    /// The read gate of the session whose plugin callback runs on this thread, while its synchronous part runs: the
    /// session a send queue pauses when a send made there goes over its limit (lws pauses the senders feeding a full
    /// ring). A thread-static, not an AsyncLocal: setting it costs two writes per callback and no allocation. A send made
    /// after the callback's first real await has no feeder; <see cref="SendAsync"/> paces such senders.
    /// </summary>
    [ThreadStatic]
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] field, as in the .NET runtime.
    private static ReadGate? t_feeder;
#pragma warning restore IDE1006

    /// <summary>
    /// The read gate of the session whose plugin callback runs on this thread, if any: what a queue the host cannot drain
    /// at the sender's pace (the Redis backplane's outbox) holds to pace that sender, as a full send queue does.
    /// </summary>
    internal static ReadGate? CurrentFeeder => t_feeder;

    /// <summary>
    /// Makes <paramref name="feeder"/> the feeder of what this thread sends until it is swapped back (returns the one it
    /// replaces): the Redis backplane's reader delivers as a feeder, so the queues it fills pace it as they pace a session.
    /// </summary>
    internal static ReadGate? SwapFeeder(ReadGate? feeder)
    {
        var outer = t_feeder;
        t_feeder = feeder;
        return outer;
    }

    private readonly WebSocket _socket;
    private readonly HttpContext _http;
    private readonly Vhost _vhost;
    private readonly VhostProtocol _protocol;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _dispatchGate = new(1, 1);
    private volatile ProtocolInstance _instance;
    private bool _finished;
    private readonly SendQueue _queue;
    private readonly ReadGate _readGate = new();
    private TaskCompletionSource? _writerDone;
    private volatile bool _writerFailed;
    private readonly CancellationTokenSource _ended = new();
    private int _closeRequested;
    private WebSocketCloseStatus _closeStatus;
    private string? _closeReason;
    private ITimer? _abortTimer;
    private ITimer? _idleTimer;
    private long _callbackStartedAt;
    private readonly UpgradedConnectionLifetime? _lifetime;
    private readonly IDisposable? _admission;
    private readonly long _id;
    private string? _idText;
    private readonly IPAddress? _remoteAddress;
    private readonly int _remotePort;
    private string _callbackName = "";
    private int _callbackTimedOut;

    /// <summary>
    /// A session over an accepted WebSocket. It owns <paramref name="socket"/> and <paramref name="admission"/> (the vhost's
    /// limit slots) and releases both when it ends, before it tells the vhost.
    /// </summary>
    public WebSocketSession(WebSocket socket, HttpContext http, Vhost vhost, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission, ILogger logger)
    {
        _socket = socket;
        _http = http;
        _admission = admission;
        _lifetime = http.Features.Get<IHttpUpgradeFeature>() as UpgradedConnectionLifetime ?? http.Features.Get<IHttpExtendedConnectFeature>() as UpgradedConnectionLifetime;
        _vhost = vhost;
        _protocol = protocol;
        _instance = instance;
        _logger = logger;
        _id = Interlocked.Increment(ref s_lastId);
        Path = http.Request.Path.Value ?? "/";
        QueryString = http.Request.QueryString.Value ?? "";
        UserAgent = http.Request.Headers.UserAgent.Count == 0 ? null : http.Request.Headers.UserAgent.ToString();
        IsOverHttp2 = HttpProtocol.IsHttp2(http.Request.Protocol);
        // Kestrel's connection feature, not HttpContext.Connection (which allocates a wrapper kept for the session's life).
        var connection = http.Features.Get<IHttpConnectionFeature>();
        _remoteAddress = connection?.RemoteIpAddress;
        _remotePort = connection?.RemotePort ?? 0;
        ConnectedAt = vhost.Time.GetUtcNow();
        var options = vhost.Options;
        _queue = new SendQueue(
            options.SendQueueLimit, options.SlowConsumerPolicy == SlowConsumerPolicy.DropOldest, options.SlowConsumerPolicy == SlowConsumerPolicy.Backpressure);
    }

    /// <summary>The session's id; its text is made when first asked for (a log line, a plugin), not for every session.</summary>
    public string Id => _idText ??= _id.ToString(CultureInfo.InvariantCulture);

    public string Protocol => _protocol.Name;

    public string VhostName => _vhost.Name;

    public string Path { get; }

    public string QueryString { get; }

    /// <summary>The client's address and port (a new object each time: <see cref="IPEndPoint"/> is mutable).</summary>
    public IPEndPoint? RemoteEndPoint => _remoteAddress is null ? null : new IPEndPoint(_remoteAddress, _remotePort);

    public string? UserAgent { get; }

    public bool IsOverHttp2 { get; }

    public DateTimeOffset ConnectedAt { get; }

    public object? State { get; set; }

    public CancellationToken Ended => _ended.Token;

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    /// <summary>Payload bytes this session received (read once it has ended).</summary>
    public long BytesIn { get; private set; }

    /// <summary>Payload bytes written to this session (read once it has ended).</summary>
    public long BytesOut { get; private set; }

    public string? GetHeader(string name)
    {
        // The request's header collection is recycled by Kestrel once the session has ended.
        if (_ended.IsCancellationRequested)
        {
            return null;
        }

        return _http.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;
    }

    public string? GetQueryParameter(string name)
    {
        if (QueryString.Length == 0)
        {
            return null;
        }

        return QueryHelpers.ParseNullableQuery(QueryString) is { } query && query.TryGetValue(name, out var values) ? values[0] ?? "" : null;
    }

    public bool TrySend(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        if (IsClosing)
        {
            return false;
        }

        var queued = _queue.TryEnqueue(new OutboundMessage(type, payload, _vhost.Time.GetTimestamp()), t_feeder, out var dropped, out var paused);
        if (dropped)
        {
            _vhost.Traffic.Metrics.SendQueueDrops.Add(1, _vhost.Traffic.VhostTag);
        }

        if (paused)
        {
            _vhost.Traffic.Metrics.FanOutPauses.Add(1, _vhost.Traffic.VhostTag);
        }

        switch (queued)
        {
            case EnqueueResult.Queued:
                return true;
            case EnqueueResult.StartWriter:
                StartWriter();
                return true;
            case EnqueueResult.Closed:
                return false;
        }

        if (IsClosing)
        {
            return false;
        }

        // The queue is full because the client does not read: cut it off rather than grow or stall the sender. Under
        // backpressure only senders the host cannot pause (timers, the backplane, sends after an await) get here: the
        // queue is at twice its limit, and losing messages silently is not an option.
        if (_queue.Capacity > _queue.Limit)
        {
            Log.SendQueueOverflowClosed(_logger, Id, _vhost.Name, _queue.Capacity);
        }
        else
        {
            Log.SlowConsumerClosed(_logger, Id, _vhost.Name, _vhost.Options.SendQueueLimit);
        }

        _vhost.Traffic.Metrics.SlowConsumerCloses.Add(1, _vhost.Traffic.VhostTag);
        _queue.Clear();
        RequestClose(WebSocketCloseStatus.PolicyViolation, "send queue full: client too slow");
        return false;
    }

    public async ValueTask<bool> SendAsync(WebSocketMessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        // Waits while the queue is at its limit; the writer (or the session's close) completes the wait. Another sender
        // may fill the room first: the loop waits again, and at worst the enqueue goes over the limit, as TrySend may.
        while (_queue.WaitForRoom() is { } room)
        {
            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return TrySend(type, payload);
    }

    /// <summary>
    /// Called by the vhost's stall watchdog (policy backpressure): a session whose writer took no message for
    /// <paramref name="timeout"/> timestamp ticks while messages wait reads nothing; it is closed with 1008, its queue
    /// dropped (it gets the close frame after the write in flight), and the senders it paused resume.
    /// </summary>
    public void CheckStall(long now, long timeout, int timeoutMs)
    {
        if (IsClosing || !_queue.IsStalled(now, timeout))
        {
            return;
        }

        Log.StalledConsumerClosed(_logger, Id, _vhost.Name, timeoutMs);
        _vhost.Traffic.Metrics.FanOutStalls.Add(1, _vhost.Traffic.VhostTag);
        _queue.Clear();
        RequestClose(WebSocketCloseStatus.PolicyViolation, $"stalled: no progress for {timeoutMs} ms");
    }

    public void Close(WebSocketCloseStatus status, string? reason) => RequestClose(status, reason);

    /// <summary>Drops the connection without a close handshake (a drain that ran out of time).</summary>
    public void Abort() => ForceAbort(_socket, _lifetime);

    /// <summary>Resets the connection, even after a close frame (<see cref="UpgradedConnectionLifetime"/> lets only these through).</summary>
    private static void ForceAbort(WebSocket socket, UpgradedConnectionLifetime? lifetime)
    {
        lifetime?.Force();
        socket.Abort();
    }

    /// <summary>The protocol instance (and so the plugin generation) serving this session now.</summary>
    public ProtocolInstance Instance => _instance;

    /// <summary>
    /// Waits until no callback of this session runs and holds further ones back (for a state hand-over). Returns
    /// <see langword="false"/> when the session has ended or did not pause in time.
    /// </summary>
    public async Task<bool> PauseAsync(TimeSpan timeout)
    {
        if (!await _dispatchGate.WaitAsync(timeout).ConfigureAwait(false))
        {
            return false;
        }

        if (_finished)
        {
            _dispatchGate.Release();
            return false;
        }

        return true;
    }

    /// <summary>Moves a paused session to another instance, and lets its callbacks run again.</summary>
    public void MoveToAndResume(ProtocolInstance next)
    {
        var previous = _instance;
        next.SessionOpened();
        _instance = next;
        previous.SessionClosed();
        _dispatchGate.Release();
    }

    /// <summary>Lets a paused session's callbacks run again, on the same instance.</summary>
    public void Resume() => _dispatchGate.Release();

    /// <summary>
    /// Runs the session until it ends, then releases its socket and limit slots and tells the vhost; never throws. The
    /// receive loop is part of this method rather than a method of its own: an idle session parks one state machine, not
    /// two (bench/RESULTS.md, idle memory).
    /// </summary>
    public async Task RunAsync()
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.SessionOpened(_logger, Id, _vhost.Name, Protocol, RemoteEndPoint?.ToString());
        }

        _instance.SessionOpened();
        _vhost.Traffic.Metrics.SessionsActive.Add(1, _vhost.Traffic.VhostTag, new("protocol", Protocol));
        var idle = TimeSpan.FromMilliseconds(_vhost.Options.IdleTimeoutMs);
        if (idle > TimeSpan.Zero)
        {
            _idleTimer = _vhost.Time.CreateTimer(
                static state => ((WebSocketSession)state!).RequestClose(WebSocketCloseStatus.EndpointUnavailable, "idle timeout"), this, idle, Timeout.InfiniteTimeSpan);
        }

        var opened = await InvokeHandlerAsync(static (h, s, _) => h.OnSessionOpenedAsync(s, s.Ended), default(WebSocketMessage), "OnSessionOpenedAsync").ConfigureAwait(false);
        var dispatch = opened;
        byte[]? buffer = null;
        byte[]? message = null;
        var length = 0;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result;
                try
                {
                    // Between messages, wait with a zero-byte read: an idle session holds no receive buffer. The buffer
                    // is rented when data is ready and returned once the message has been handed over.
                    var between = length == 0 && buffer is null;
                    if (between && _readGate.IsClosed)
                    {
                        // A queue this session feeds is over its limit: read nothing more (TCP backpressure on the client)
                        // until it drains. Checked between messages only, so a paused session holds no receive buffer.
                        // The client is not idle while we do not read it: its idle timeout waits with it.
                        _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                        await _readGate.WaitAsync().ConfigureAwait(false);
                        _idleTimer?.Change(idle, Timeout.InfiniteTimeSpan);
                    }

                    result = await _socket.ReceiveAsync(between ? Memory<byte>.Empty : buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                    if (between && result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                        continue;
                    }
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
                {
                    Log.SessionAborted(_logger, Id, ex.Message);
                    break;
                }

                _idleTimer?.Change(idle, Timeout.InfiniteTimeSpan);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Echo the client's close code and reason, as lws does; a no-op when we closed first.
                    RequestClose(_socket.CloseStatus ?? WebSocketCloseStatus.Empty, _socket.CloseStatusDescription);
                    break;
                }

                if (IsClosing || !dispatch)
                {
                    ReturnBuffer(ref buffer, result.EndOfMessage);
                    continue;
                }

                var maxMessageSize = _vhost.Options.MaxMessageSize;
                if (length + result.Count > maxMessageSize)
                {
                    RequestClose(WebSocketCloseStatus.MessageTooBig, $"message larger than {maxMessageSize} bytes");
                    length = 0;
                    continue;
                }

                ReadOnlyMemory<byte> payload;
                if (result.EndOfMessage && length == 0)
                {
                    payload = buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, result.Count);
                }
                else
                {
                    message = Append(message, length, buffer.AsSpan(0, result.Count), maxMessageSize);
                    length += result.Count;
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    payload = message.AsMemory(0, length);
                    length = 0;
                }

                _vhost.Traffic.Received(payload.Length);
                BytesIn += payload.Length;
                var dispatched = _vhost.Time.GetTimestamp();
                dispatch = await InvokeHandlerAsync(
                    static (h, s, m) => h.OnMessageAsync(s, m, s.Ended),
                    new WebSocketMessage(result.MessageType, payload),
                    "OnMessageAsync").ConfigureAwait(false);
                _vhost.Traffic.Metrics.DispatchDuration.Record(
                    _vhost.Time.GetElapsedTime(dispatched).TotalSeconds, _vhost.Traffic.VhostTag, new KeyValuePair<string, object?>("protocol", Protocol));
                ReturnBuffer(ref buffer, endOfMessage: true);
                if (message is not null)
                {
                    ArrayPool<byte>.Shared.Return(message);
                    message = null;
                }
            }
        }
        finally
        {
            ReturnBuffer(ref buffer, endOfMessage: true);
            if (message is not null)
            {
                ArrayPool<byte>.Shared.Return(message);
            }

            await EndAsync(opened).ConfigureAwait(false);
        }
    }

    /// <summary>The session's end: the close frame out (or the connection gone), the last callback, its resources released.</summary>
    private async Task EndAsync(bool opened)
    {
        try
        {
            RequestClose(WebSocketCloseStatus.NormalClosure, null);
            await _writerDone!.Task.ConfigureAwait(false);
            await _ended.CancelAsync().ConfigureAwait(false);
            if (_abortTimer is not null)
            {
                await _abortTimer.DisposeAsync().ConfigureAwait(false);
            }

            if (_idleTimer is not null)
            {
                await _idleTimer.DisposeAsync().ConfigureAwait(false);
            }

            // The last callback, and the session leaves its instance: no hand-over can move it after this.
            await _dispatchGate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (opened)
                {
                    await InvokeCoreAsync(static (h, s, _) => h.OnSessionClosedAsync(s), default(WebSocketMessage), "OnSessionClosedAsync").ConfigureAwait(false);
                }
            }
            finally
            {
                _finished = true;
                _instance.SessionClosed();
                _dispatchGate.Release();
                _vhost.Traffic.Metrics.SessionsActive.Add(-1, _vhost.Traffic.VhostTag, new("protocol", Protocol));
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.SessionClosed(_logger, Id, _vhost.Name);
            }
        }
        finally
        {
            if (_lifetime?.Guard is { } guard)
            {
                await guard.FlushQuietlyAsync().ConfigureAwait(false);
            }

            _socket.Dispose();
            _admission?.Dispose();
            _vhost.SessionEnded(this, _http);
        }
    }

    private static void ReturnBuffer(ref byte[]? buffer, bool endOfMessage)
    {
        if (buffer is not null && endOfMessage)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }

    private static byte[] Append(byte[]? message, int length, ReadOnlySpan<byte> fragment, int maxMessageSize)
    {
        var needed = length + fragment.Length;
        if (message is null || message.Length < needed)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, (message?.Length ?? ReceiveBufferSize) * 2), maxMessageSize));
            if (message is not null)
            {
                message.AsSpan(0, length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(message);
            }

            message = grown;
        }

        fragment.CopyTo(message.AsSpan(length));
        return message;
    }

    /// <summary>Runs the writer on the thread pool (lws: the writeable callback); it stops when the queue is empty.</summary>
    private void StartWriter() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    void IThreadPoolWorkItem.Execute() => _ = WriteLoopAsync();

    private async Task WriteLoopAsync()
    {
        if (_writerFailed)
        {
            SignalWriterDone();
            return;
        }

        try
        {
            var now = _vhost.Time.GetTimestamp();
            while (true)
            {
                // Taking the next message is the writer's progress (the stall watchdog reads it).
                var next = _queue.TryDequeue(out var message, now);
                if (next == DequeueResult.Idle)
                {
                    return;
                }

                if (next == DequeueResult.CloseDue)
                {
                    break;
                }

                await _socket.SendAsync(message.Payload, message.Type, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                now = _vhost.Time.GetTimestamp();
                _vhost.Traffic.Sent(message.Payload.Length, _vhost.Time.GetElapsedTime(message.QueuedAt, now));
                BytesOut += message.Payload.Length;
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var status = _closeStatus;
                await _socket.CloseOutputAsync(status, status == WebSocketCloseStatus.Empty ? null : _closeReason, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or ArgumentException or InvalidOperationException)
        {
            Log.SessionAborted(_logger, Id, ex.Message);
            _socket.Abort();
        }

        // The close frame went out, or the connection is gone: nothing more is written on this session.
        _writerFailed = true;
        SignalWriterDone();
    }

    private void SignalWriterDone()
    {
        Interlocked.MemoryBarrier();
        Volatile.Read(ref _writerDone)?.TrySetResult();
    }

    private void RequestClose(WebSocketCloseStatus status, string? reason)
    {
        // Whoever asks first creates what the session's end awaits: the writer's last word (close frame, or failure).
        Interlocked.CompareExchange(ref _writerDone, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = TruncateReason(reason);

        // A closing session reads on to the client's close frame, whatever queue it fed.
        _readGate.Disable();

        // Bound the close: a client that neither reads nor answers is cut off after the vhost's close timeout.
        // Armed before the queue completes, so the write loop cannot end before the timer exists.
        _abortTimer = _vhost.Time.CreateTimer(
            static state => ((WebSocketSession)state!).Abort(),
            this,
            TimeSpan.FromMilliseconds(_vhost.Options.CloseTimeoutMs),
            Timeout.InfiniteTimeSpan);
        if (_queue.Complete() == EnqueueResult.StartWriter)
        {
            StartWriter();
        }

        // A writer that failed before the close was asked for is not coming back.
        Interlocked.MemoryBarrier();
        if (_writerFailed)
        {
            _writerDone!.TrySetResult();
        }
    }

    private async ValueTask<bool> InvokeHandlerAsync(
        Func<IProtocolHandler, WebSocketSession, WebSocketMessage, ValueTask> callback, WebSocketMessage message, string name)
    {
        await _dispatchGate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await InvokeCoreAsync(callback, message, name).ConfigureAwait(false);
        }
        finally
        {
            _dispatchGate.Release();
        }
    }

    private async ValueTask<bool> InvokeCoreAsync(
        Func<IProtocolHandler, WebSocketSession, WebSocketMessage, ValueTask> callback, WebSocketMessage message, string name)
    {
        var instance = _instance;
        _callbackName = name;
        Volatile.Write(ref _callbackStartedAt, _vhost.Time.GetTimestamp());
        try
        {
            // The synchronous part of the callback runs with this session as the feeder of whatever it sends.
            ValueTask pending;
            var outer = t_feeder;
            t_feeder = _readGate;
            try
            {
                pending = callback(instance.Handler, this, message);
            }
            finally
            {
                t_feeder = outer;
            }

            await pending.ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            Log.PluginCallbackFailed(_logger, ex, Id, _vhost.Name, instance.PluginId, Protocol, name);
            RequestClose(WebSocketCloseStatus.InternalServerError, "plugin error");
            return false;
        }
        finally
        {
            Volatile.Write(ref _callbackStartedAt, 0);
        }
    }

    /// <summary>
    /// Called by the vhost's watchdog: a plugin callback running longer than <paramref name="timeout"/> (a handler that
    /// blocks its thread or never completes its task) is reported once, its session closed with 1011 by the write loop
    /// (which the stuck callback does not hold), and the session's token cancelled so a cooperative handler gives up.
    /// </summary>
    public void CheckCallbackDeadline(TimeSpan timeout)
    {
        var started = Volatile.Read(ref _callbackStartedAt);
        if (started == 0 || _vhost.Time.GetElapsedTime(started) < timeout || Interlocked.Exchange(ref _callbackTimedOut, 1) != 0)
        {
            return;
        }

        var instance = _instance;
        instance.CallbackTimedOut();
        _vhost.Traffic.Metrics.PluginCallbackTimeouts.Add(1, _vhost.Traffic.VhostTag, new("protocol", Protocol), new("callback", _callbackName));
        Log.PluginCallbackTimedOut(_logger, Id, _vhost.Name, instance.PluginId, Protocol, _callbackName, (int)timeout.TotalMilliseconds);
        RequestClose(WebSocketCloseStatus.InternalServerError, "plugin callback timed out");
        _ = _ended.CancelAsync();
    }

    private static string? TruncateReason(string? reason)
    {
        if (reason is null || Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes)
        {
            return reason;
        }

        var length = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes || char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return reason[..length];
    }
}
