using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks.Sources;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The fast path's server WebSocket (RFC 6455, no extensions), framing straight on the connection's pipes: frames are
/// parsed from the transport's <see cref="PipeReader"/> without a stream, a copy into a header buffer or a state machine
/// parked while idle, and each send is one frame written into its <see cref="PipeWriter"/>. It gives the close codes that
/// <see cref="Sessions.ClientFrameGuardStream"/> over ManagedWebSocket give on the pipeline path, in the same order: the
/// guard's checks (unmasked 1002, 64-bit length top bit 1002, a declared length over the message limit 1009 at once, a
/// close reason that is not UTF-8 1007, each with the guard's reason text) come before ManagedWebSocket's (reserved bits,
/// opcodes, control frames, continuation rules, close codes: 1002; invalid UTF-8 in text: 1007; no reason text), and it
/// keeps ManagedWebSocket's states, its keep-alive (unsolicited pongs, or pings with a pong timeout that aborts) and its
/// UTF-8 validation across fragments. A zero-byte receive between messages parks on the pipe's own awaiter with this
/// object as the <see cref="IValueTaskSource{TResult}"/>: an idle connection holds no async state machine and no buffer.
/// </summary>
internal sealed class PipeWebSocket : WebSocket, IValueTaskSource<ValueWebSocketReceiveResult>
{
    private const int MaxControlPayload = 125;
    private const int MaxHeaderLength = 14;
    private const int MaxCloseReasonBytes = 123;
    private const string KeepAliveTimeoutMessage = "The WebSocket didn't receive a Pong frame in response to a Ping frame within the configured KeepAliveTimeout.";

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly FastPathRequest? _owner;
    private readonly long _maxMessageSize;
    private readonly string? _subProtocol;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private volatile WebSocketState _state = WebSocketState.Open;
    private volatile bool _disposed;
    private bool _sentClose;
    private bool _receivedClose;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;
    private bool _lastSendWasFragment;

    // The frame being received: its header was parsed, its payload (_frameLeft bytes) not all handed out yet.
    private bool _frameActive;
    private bool _frameFin;
    private bool _messageIsText;
    private long _frameLeft;
    private int _mask;
    private int _maskIndex;

    // Whether the last data frame ended its message (continuation rules), and the guard's running message length.
    private bool _lastFin = true;
    private long _guardMessageLength;

    // UTF-8 validation across fragments, with ManagedWebSocket's state machine (it carries a sequence across frames).
    private bool _utf8InProgress;
    private int _utf8Expected;
    private int _utf8Bits;
    private int _utf8Min;

    // Keep-alive: unsolicited pongs (no timeout), or pings whose pong must come back within the timeout.
    // Kept apart (and only when configured) so a socket without it carries one reference.
    private readonly KeepAliveState? _keepAlive;

    // The parked zero-byte receive.
    private ManualResetValueTaskSourceCore<ValueWebSocketReceiveResult> _source;
    private ValueTaskAwaiter<ReadResult> _readAwaiter;
    private Action? _onRead;

    public PipeWebSocket(
        IDuplexPipe transport, string? subProtocol, long maxMessageSize, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, TimeProvider time, FastPathRequest? owner = null)
    {
        _input = transport.Input;
        _output = transport.Output;
        _subProtocol = subProtocol;
        _maxMessageSize = maxMessageSize;
        _owner = owner;
        if (keepAliveInterval > TimeSpan.Zero && keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            var pinging = keepAliveTimeout > TimeSpan.Zero && keepAliveTimeout != Timeout.InfiniteTimeSpan;
            var keepAlive = _keepAlive = new KeepAliveState { Interval = keepAliveInterval, Timeout = pinging ? keepAliveTimeout : Timeout.InfiniteTimeSpan };
            keepAlive.Timer = time.CreateTimer(
                static s => ((PipeWebSocket)s!).HeartBeat(), this, keepAliveInterval, pinging ? Timeout.InfiniteTimeSpan : keepAliveInterval);
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeDescription;

    public override WebSocketState State => _state;

    public override string? SubProtocol => _subProtocol;

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_disposed || _state is not (WebSocketState.Open or WebSocketState.CloseSent))
        {
            return ValueTask.FromException<ValueWebSocketReceiveResult>(InvalidState());
        }

        if (buffer.IsEmpty && _frameActive)
        {
            // Inside a frame's payload, a zero-byte receive reports the frame again without reading (as ManagedWebSocket).
            return ValueTask.FromResult(new ValueWebSocketReceiveResult(0, MessageType, false));
        }

        if (buffer.IsEmpty && !cancellationToken.CanBeCanceled)
        {
            // Between messages: wait for data on the pipe's awaiter, with no async method of ours suspended.
#pragma warning disable CA2012 // Awaited through its awaiter below, or passed on to be awaited once.
            var read = _input.ReadAsync(CancellationToken.None);
#pragma warning restore CA2012
            if (!read.IsCompleted)
            {
                _source.Reset();
                _readAwaiter = read.GetAwaiter();
                _readAwaiter.UnsafeOnCompleted(_onRead ??= OnReadCompleted);
                return new ValueTask<ValueWebSocketReceiveResult>(this, _source.Version);
            }

            return ReceiveCoreAsync(buffer, read, cancellationToken);
        }

        return ReceiveCoreAsync(buffer, null, cancellationToken);
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage, _closeStatus, _closeDescription);
    }

    private void OnReadCompleted()
    {
        ValueTask<ValueWebSocketReceiveResult> receiving;
        try
        {
#pragma warning disable RS0030 // The awaiter's completion callback: its result is there, nothing blocks.
            var read = new ValueTask<ReadResult>(_readAwaiter.GetResult());
#pragma warning restore RS0030
            _readAwaiter = default;
            receiving = ReceiveCoreAsync(Memory<byte>.Empty, read, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _readAwaiter = default;
            OnAborted();
            _source.SetException(ex is WebSocketException or OperationCanceledException ? ex : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, ex));
            return;
        }

        if (receiving.IsCompleted)
        {
            Complete(receiving);
        }
        else
        {
            _ = CompleteLaterAsync(receiving);
        }
    }

    private async Task CompleteLaterAsync(ValueTask<ValueWebSocketReceiveResult> receiving)
    {
        try
        {
            _source.SetResult(await receiving.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            _source.SetException(ex);
        }
    }

    private void Complete(ValueTask<ValueWebSocketReceiveResult> receiving)
    {
        ValueWebSocketReceiveResult result;
        try
        {
#pragma warning disable RS0030 // Result of a completed task: does not block.
            result = receiving.Result;
#pragma warning restore RS0030
        }
        catch (Exception ex)
        {
            _source.SetException(ex);
            return;
        }

        _source.SetResult(result);
    }

    ValueWebSocketReceiveResult IValueTaskSource<ValueWebSocketReceiveResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ValueWebSocketReceiveResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ValueWebSocketReceiveResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    /// <summary>What one step of the parser found in the received bytes.</summary>
    private enum Step
    {
        NeedMore,
        Data,
        Control,
        Close,
        Fail,
    }

    private async ValueTask<ValueWebSocketReceiveResult> ReceiveCoreAsync(Memory<byte> buffer, ValueTask<ReadResult>? first, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                ReadResult result;
                if (first is { } pending)
                {
                    first = null;
                    result = await pending.ConfigureAwait(false);
                }
                else
                {
                    result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
                }

                var data = result.Buffer;
                if (result.IsCanceled || _state == WebSocketState.Aborted || _disposed)
                {
                    _input.AdvanceTo(data.Start);
                    throw Ended();
                }

                var step = Parse(data, buffer.Span, out var consumed, out var value);
                switch (step)
                {
                    case Step.NeedMore:
                        _input.AdvanceTo(data.Start, data.End);
                        if (result.IsCompleted)
                        {
                            throw Premature();
                        }

                        continue;
                    case Step.Data:
                        _input.AdvanceTo(consumed);
                        if (value.Fail is { } utf8)
                        {
                            await FailAsync(utf8, "", guard: false).ConfigureAwait(false);
                        }

                        return value.Result;
                    case Step.Control:
                        _input.AdvanceTo(consumed);
                        if (value.Pong is { } pong)
                        {
                            try
                            {
                                await SendFrameAsync(0xA, true, pong.AsMemory(0, value.PongLength), CancellationToken.None).ConfigureAwait(false);
                            }
                            finally
                            {
                                ArrayPool<byte>.Shared.Return(pong);
                            }
                        }

                        continue;
                    case Step.Close:
                        _input.AdvanceTo(consumed);
                        return value.Result;
                    default:
                        _input.AdvanceTo(consumed);
                        await FailAsync(value.Fail!.Value, value.Reason ?? "", value.Guard).ConfigureAwait(false);
                        throw new WebSocketException(WebSocketError.Faulted);
                }
            }
        }
        catch (Exception ex) when (ex is not (WebSocketException or OperationCanceledException))
        {
            OnAborted();
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, ex);
        }
        catch (WebSocketException)
        {
            OnAborted();
            throw;
        }
    }

    /// <summary>What a parse step produced: a receive result, a pong to send, or a failure with its close code.</summary>
    private struct Parsed
    {
        public ValueWebSocketReceiveResult Result;
        public byte[]? Pong;
        public int PongLength;
        public WebSocketCloseStatus? Fail;
        public string? Reason;
        public bool Guard;
    }

    private Step Parse(in ReadOnlySequence<byte> data, Span<byte> buffer, out SequencePosition consumed, out Parsed value)
    {
        value = default;
        consumed = data.Start;
        var rest = data;
        if (!_frameActive)
        {
            var step = ParseHeader(ref rest, ref value);
            consumed = rest.Start;
            if (step != Step.Data)
            {
                return step;
            }

            // A data frame's header: without a buffer (or a payload), report it as ManagedWebSocket does.
            if (_frameLeft == 0 || buffer.IsEmpty)
            {
                var endOfMessage = _frameFin && _frameLeft == 0;
                _frameActive = _frameLeft != 0;
                value.Result = new ValueWebSocketReceiveResult(0, MessageType, endOfMessage);
                return Step.Data;
            }
        }

        if (rest.IsEmpty)
        {
            // The header is taken (consumed); its payload has not arrived yet.
            return consumed.Equals(data.Start) ? Step.NeedMore : NeedMoreAfterHeader(ref value);
        }

        var count = (int)Math.Min(Math.Min(_frameLeft, buffer.Length), rest.Length);
        var chunk = buffer[..count];
        rest.Slice(0, count).CopyTo(chunk);
        consumed = rest.GetPosition(count);
        _maskIndex = ApplyMask(chunk, _mask, _maskIndex);
        _frameLeft -= count;
        _frameActive = _frameLeft != 0;
        var eom = _frameFin && _frameLeft == 0;
        if (_messageIsText && !ValidateUtf8(chunk, eom))
        {
            value.Fail = WebSocketCloseStatus.InvalidPayloadData;
        }

        value.Result = new ValueWebSocketReceiveResult(count, MessageType, eom);
        return Step.Data;
    }

    /// <summary>A header was consumed and no payload byte is there yet: wait in the next read (the header stays parsed).</summary>
    private static Step NeedMoreAfterHeader(ref Parsed value)
    {
        // Reported as a control step so the caller consumes the header and reads again.
        value = default;
        return Step.Control;
    }

    private WebSocketMessageType MessageType => _messageIsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary;

    /// <summary>
    /// Parses the next frame's header (and a control frame's payload) from <paramref name="rest"/>, advancing it past what
    /// is consumed. The guard's checks run first, then ManagedWebSocket's, so each bad frame gets the code it gets today.
    /// </summary>
    private Step ParseHeader(ref ReadOnlySequence<byte> rest, ref Parsed value)
    {
        if (rest.Length < 2)
        {
            return Step.NeedMore;
        }

        Span<byte> header = stackalloc byte[MaxHeaderLength];
        rest.Slice(0, 2).CopyTo(header);
        var masked = (header[1] & 0x80) != 0;
        var size = (header[1] & 0x7F) switch
        {
            126 => 4,
            127 => 10,
            _ => 2,
        } + (masked ? 4 : 0);
        if (rest.Length < size)
        {
            return Step.NeedMore;
        }

        rest.Slice(0, size).CopyTo(header);
        var fin = (header[0] & 0x80) != 0;
        var opcode = header[0] & 0x0F;
        ulong length = (header[1] & 0x7F) switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
            127 => BinaryPrimitives.ReadUInt64BigEndian(header[2..]),
            var small => (ulong)small,
        };

        // The guard's checks, as it made them on the header's bytes.
        if (!masked)
        {
            return Fail(ref rest, size, ref value, WebSocketCloseStatus.ProtocolError, "client frames must be masked", guard: true);
        }

        if (length > long.MaxValue)
        {
            return Fail(ref rest, size, ref value, WebSocketCloseStatus.ProtocolError, "64-bit payload length with the most significant bit set", guard: true);
        }

        if (opcode is 0x0 or 0x1 or 0x2)
        {
            var total = (opcode == 0x0 ? _guardMessageLength : 0) + (long)Math.Min(length, (ulong)_maxMessageSize + 1);
            if (total > _maxMessageSize)
            {
                return Fail(ref rest, size, ref value, WebSocketCloseStatus.MessageTooBig, $"message larger than {_maxMessageSize} bytes", guard: true);
            }

            _guardMessageLength = fin ? 0 : total;
        }

        var mask = BinaryPrimitives.ReadInt32LittleEndian(header[(size - 4)..]);
        if (opcode == 0x8 && length is > 2 and <= MaxControlPayload)
        {
            // The guard saw a close frame's reason as its bytes arrived, before ManagedWebSocket judged the frame.
            if (rest.Length < size + (long)length)
            {
                return Step.NeedMore;
            }

            Span<byte> close = stackalloc byte[MaxControlPayload];
            var payload = close[..(int)length];
            rest.Slice(size, (long)length).CopyTo(payload);
            ApplyMask(payload, mask, 0);
            if (!System.Text.Unicode.Utf8.IsValid(payload[2..]))
            {
                return Fail(ref rest, size + (int)length, ref value, WebSocketCloseStatus.InvalidPayloadData, "close reason is not valid UTF-8", guard: true);
            }
        }

        // ManagedWebSocket's checks (no extension is negotiated on this path: RSV1 is as wrong as RSV2 and RSV3).
        var valid = (header[0] & 0x70) == 0 && opcode switch
        {
            0x0 => !_lastFin,
            0x1 or 0x2 => _lastFin,
            0x8 or 0x9 or 0xA => length <= MaxControlPayload && fin,
            _ => false,
        };
        if (!valid)
        {
            return Fail(ref rest, size, ref value, WebSocketCloseStatus.ProtocolError, null, guard: false);
        }

        if (opcode >= 0x8)
        {
            return ParseControl(ref rest, size, opcode, (int)length, mask, ref value);
        }

        rest = rest.Slice(size);
        if (opcode != 0x0)
        {
            _messageIsText = opcode == 0x1;
        }

        _lastFin = fin;
        _frameFin = fin;
        _frameLeft = (long)length;
        _mask = mask;
        _maskIndex = 0;
        _frameActive = true;
        return Step.Data;
    }

    private Step ParseControl(ref ReadOnlySequence<byte> rest, int size, int opcode, int length, int mask, ref Parsed value)
    {
        if (rest.Length < size + length)
        {
            return Step.NeedMore;
        }

        Span<byte> payload = stackalloc byte[MaxControlPayload];
        payload = payload[..length];
        rest.Slice(size, length).CopyTo(payload);
        ApplyMask(payload, mask, 0);
        rest = rest.Slice(size + length);
        switch (opcode)
        {
            case 0x9:
                var pong = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                payload.CopyTo(pong);
                value.Pong = pong;
                value.PongLength = length;
                return Step.Control;
            case 0xA:
                if (length == 8 && _keepAlive is { Timeout.Ticks: > 0 })
                {
                    OnPong(BinaryPrimitives.ReadInt64BigEndian(payload));
                }

                return Step.Control;
        }

        // A close frame: the state changes first, as in ManagedWebSocket, then its payload is judged.
        lock (_sendLock)
        {
            _receivedClose = true;
            _state = _sentClose ? WebSocketState.Closed : _state < WebSocketState.CloseReceived ? WebSocketState.CloseReceived : _state;
        }

        var status = WebSocketCloseStatus.NormalClosure;
        var description = "";
        if (length == 1)
        {
            value.Fail = WebSocketCloseStatus.ProtocolError;
            return Step.Fail;
        }

        if (length >= 2)
        {
            status = (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!IsValidCloseStatus((int)status))
            {
                value.Fail = WebSocketCloseStatus.ProtocolError;
                return Step.Fail;
            }

            description = Encoding.UTF8.GetString(payload[2..]);
        }

        _closeStatus = status;
        _closeDescription = description;
        value.Result = new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
        return Step.Close;
    }

    private static Step Fail(ref ReadOnlySequence<byte> rest, int size, ref Parsed value, WebSocketCloseStatus status, string? reason, bool guard)
    {
        rest = rest.Slice(Math.Min(size, rest.Length));
        value.Fail = status;
        value.Reason = reason;
        value.Guard = guard;
        return Step.Fail;
    }

    /// <summary>RFC 6455 §7.4 codes a peer may send, as ManagedWebSocket accepts them.</summary>
    private static bool IsValidCloseStatus(int code)
        => code is >= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999;

    /// <summary>
    /// Fails the connection: the close frame goes out (unless one has), and nothing more is received. The guard's
    /// failures carry its reason and end the read side; ManagedWebSocket's carry no reason, as it sends them.
    /// </summary>
    private async ValueTask FailAsync(WebSocketCloseStatus status, string reason, bool guard)
    {
        if (!_sentClose)
        {
            try
            {
                await SendCloseFrameAsync(status, reason).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException or IOException)
            {
                // The client is gone already; the connection ends either way.
            }
        }

        if (guard)
        {
            OnAborted();
            throw Premature();
        }

        if (_receivedClose)
        {
            Dispose();
        }

        throw new WebSocketException(WebSocketError.Faulted);
    }

    private bool ValidateUtf8(ReadOnlySpan<byte> span, bool endOfMessage)
    {
        if (endOfMessage && !_utf8InProgress)
        {
            return System.Text.Unicode.Utf8.IsValid(span);
        }

        var i = 0;
        while (i < span.Length)
        {
            if (!_utf8InProgress)
            {
                var ascii = span[i..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
                if (ascii < 0)
                {
                    break;
                }

                i += ascii;
                _utf8InProgress = true;
                var lead = span[i++];
                if ((lead & 0xC0) == 0x80)
                {
                    return false;
                }

                if ((lead & 0xE0) == 0xC0)
                {
                    (_utf8Expected, _utf8Bits, _utf8Min) = (1, lead & 0x1F, 0x80);
                }
                else if ((lead & 0xF0) == 0xE0)
                {
                    (_utf8Expected, _utf8Bits, _utf8Min) = (2, lead & 0x0F, 0x800);
                }
                else if ((lead & 0xF8) == 0xF0)
                {
                    (_utf8Expected, _utf8Bits, _utf8Min) = (3, lead & 0x07, 0x10000);
                }
                else
                {
                    return false;
                }
            }

            while (_utf8Expected > 0 && i < span.Length)
            {
                var next = span[i];
                if ((next & 0xC0) != 0x80)
                {
                    return false;
                }

                i++;
                _utf8Expected--;
                _utf8Bits = (_utf8Bits << 6) | (next & 0x3F);

                // A surrogate (U+D800..U+DFFF) or a code point over U+10FFFF, known before the sequence ends.
                if ((_utf8Expected == 1 && _utf8Bits is >= 0x360 and <= 0x37F) || (_utf8Expected == 2 && _utf8Bits >= 0x110))
                {
                    return false;
                }
            }

            if (_utf8Expected == 0)
            {
                _utf8InProgress = false;
                if (_utf8Bits < _utf8Min)
                {
                    return false;
                }
            }
        }

        return !endOfMessage || !_utf8InProgress;
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentException("Use CloseOutputAsync to send a close frame.", nameof(messageType));
        }

        if (_disposed || _state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return ValueTask.FromException(InvalidState());
        }

        var opcode = _lastSendWasFragment ? 0x0 : messageType == WebSocketMessageType.Text ? 0x1 : 0x2;
        _lastSendWasFragment = !endOfMessage;
        return SendFrameAsync(opcode, endOfMessage, buffer, cancellationToken);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        => SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>One frame into the pipe and a flush. The lock is free on every send but a pong's or a ping's overlap.</summary>
    private ValueTask SendFrameAsync(int opcode, bool fin, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!_sendLock.Wait(0, CancellationToken.None))
        {
            return SendFrameGatedAsync(opcode, fin, payload, cancellationToken);
        }

        ValueTask<FlushResult> flushing;
        try
        {
            WriteFrame(opcode, fin, payload.Span);
            flushing = _output.FlushAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            _sendLock.Release();
            return ValueTask.FromException(SendFailed(ex));
        }

        if (flushing.IsCompletedSuccessfully)
        {
            _sendLock.Release();
            return default;
        }

        return AwaitFlushAsync(flushing);
    }

    private async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flushing)
    {
        try
        {
            await flushing.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SendFailed(ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask SendFrameGatedAsync(int opcode, bool fin, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            WriteFrame(opcode, fin, payload.Span);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SendFailed(ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void WriteFrame(int opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(WebSocket));

        // Decided under the send lock: nothing but a pong follows our close frame, whoever raced to send it.
        if (opcode < 0x9 && _sentClose)
        {
            throw InvalidState();
        }

        _sentClose |= opcode == 0x8;
        var headerLength = payload.Length <= 125 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var span = _output.GetSpan(headerLength + payload.Length);
        span[0] = (byte)(opcode | (fin ? 0x80 : 0));
        switch (headerLength)
        {
            case 2:
                span[1] = (byte)payload.Length;
                break;
            case 4:
                span[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)payload.Length);
                break;
            default:
                span[1] = 127;
                BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)payload.Length);
                break;
        }

        payload.CopyTo(span[headerLength..]);
        _output.Advance(headerLength + payload.Length);
    }

    private Exception SendFailed(Exception ex)
        => ex is OperationCanceledException or WebSocketException ? ex
            : _state == WebSocketState.Aborted ? new OperationCanceledException("The WebSocket was aborted.", ex)
            : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, ex);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        ValidateCloseStatus(closeStatus, statusDescription);
        return CloseOutputCoreAsync(closeStatus, statusDescription, cancellationToken);
    }

    private async Task CloseOutputCoreAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (_disposed || _state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            throw InvalidState();
        }

        await SendCloseFrameAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        if (_receivedClose)
        {
            Dispose();
        }
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        ValidateCloseStatus(closeStatus, statusDescription);
        if (!_sentClose)
        {
            await SendCloseFrameAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxControlPayload + MaxHeaderLength);
        try
        {
            while (!_receivedClose)
            {
                await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Dispose();
    }

    private async ValueTask SendCloseFrameAsync(WebSocketCloseStatus status, string? description, CancellationToken cancellationToken = default)
    {
        // Two bytes of code always (ManagedWebSocket writes even Empty's 1005), then the reason.
        var length = 2 + (string.IsNullOrEmpty(description) ? 0 : Encoding.UTF8.GetByteCount(description));
        var payload = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
            if (length > 2)
            {
                Encoding.UTF8.GetBytes(description!, payload.AsSpan(2));
            }

            await SendFrameAsync(0x8, true, payload.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }

        lock (_sendLock)
        {
            _sentClose = true;
            _state = _receivedClose && _state < WebSocketState.Closed ? WebSocketState.Closed
                : _state < WebSocketState.CloseSent ? WebSocketState.CloseSent
                : _state;
        }
    }

    private static void ValidateCloseStatus(WebSocketCloseStatus status, string? description)
    {
        if (status == WebSocketCloseStatus.Empty && !string.IsNullOrEmpty(description))
        {
            throw new ArgumentException("A close with status Empty carries no description.", nameof(description));
        }

        if ((int)status is >= 0 and <= 999 or 1006 or 1015)
        {
            throw new ArgumentException($"close status {(int)status} may not be sent.", nameof(status));
        }

        if (description is not null && Encoding.UTF8.GetByteCount(description) > MaxCloseReasonBytes)
        {
            throw new ArgumentException($"the close description is over {MaxCloseReasonBytes} bytes.", nameof(description));
        }
    }

    /// <summary>Keep-alive tick: an unsolicited pong, or a ping (then the timer waits for its pong up to the timeout).</summary>
    private void HeartBeat()
    {
        var keepAlive = _keepAlive!;
        if (_disposed || _state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        if (keepAlive.Timeout == Timeout.InfiniteTimeSpan)
        {
            Observe(SendFrameAsync(0xA, true, ReadOnlyMemory<byte>.Empty, CancellationToken.None));
            return;
        }

        byte[]? ping = null;
        lock (_sendLock)
        {
            if (keepAlive.Outstanding)
            {
                // No pong within the timeout: the connection is dead; the pending receive ends with this fault.
                keepAlive.Fault = new WebSocketException(WebSocketError.Faulted, KeepAliveTimeoutMessage);
            }
            else
            {
                keepAlive.Outstanding = true;
                ping = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(ping, ++keepAlive.Payload);
                keepAlive.Timer!.Change(keepAlive.Timeout, Timeout.InfiniteTimeSpan);
            }
        }

        if (ping is null)
        {
            Abort();
            return;
        }

        Observe(SendFrameAsync(0x9, true, ping, CancellationToken.None));
    }

    private void OnPong(long payload)
    {
        var keepAlive = _keepAlive!;
        lock (_sendLock)
        {
            if (keepAlive.Outstanding && payload == keepAlive.Payload && keepAlive.Fault is null)
            {
                keepAlive.Outstanding = false;
                keepAlive.Timer?.Change(keepAlive.Interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Whether a keep-alive ping waits for its pong.</summary>
    internal bool IsAwaitingPong => _keepAlive?.Outstanding == true;

    private static void Observe(ValueTask sending)
    {
        if (sending.IsCompleted)
        {
            if (sending.IsFaulted)
            {
                _ = sending.AsTask().Exception;
            }

            return;
        }

        _ = sending.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Lets a close frame just written reach the wire before the connection goes (bounded, errors ignored).</summary>
    internal async ValueTask FlushQuietlyAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            // Wall time, as the socket's own send timeouts: a peer that reads nothing must not hold the session's end.
            await _output.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or TimeoutException or OperationCanceledException)
        {
            // Nothing left to flush to.
        }
    }

    public override void Abort()
    {
        OnAborted();
        Dispose();
    }

    private void OnAborted()
    {
        lock (_sendLock)
        {
            if (_state is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _state = WebSocketState.Aborted;
            }
        }
    }

    public override void Dispose()
    {
        lock (_sendLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_state < WebSocketState.Aborted)
            {
                _state = WebSocketState.Closed;
            }
        }

        _keepAlive?.Timer?.Dispose();
        if (_owner?.Forced == true)
        {
            _owner.AbortConnection();
        }
        else
        {
            // Ends a pending receive; the connection closes with a FIN once the session returns.
            _input.CancelPendingRead();
        }
    }

    private WebSocketException InvalidState()
        => _keepAlive?.Fault ?? new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {(_disposed ? "disposed" : _state.ToString())}.");

    private Exception Ended()
        => _keepAlive?.Fault ?? (_state == WebSocketState.Aborted ? new OperationCanceledException("The WebSocket was aborted.") : (Exception)Premature());

    private static WebSocketException Premature()
        => new(WebSocketError.ConnectionClosedPrematurely, "The remote party closed the WebSocket connection without completing the close handshake.");

    /// <summary>XORs the client's mask over <paramref name="data"/>, starting at byte <paramref name="index"/> of the mask; returns where it ends.</summary>
    private static int ApplyMask(Span<byte> data, int mask, int index)
    {
        if (data.IsEmpty)
        {
            return index;
        }

        var rotated = (int)System.Numerics.BitOperations.RotateRight((uint)mask, index * 8);
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(data);
        if (System.Numerics.Vector.IsHardwareAccelerated && words.Length >= System.Numerics.Vector<int>.Count)
        {
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<int, System.Numerics.Vector<int>>(words);
            var pattern = new System.Numerics.Vector<int>(rotated);
            for (var v = 0; v < vectors.Length; v++)
            {
                vectors[v] ^= pattern;
            }

            words = words[(vectors.Length * System.Numerics.Vector<int>.Count)..];
        }

        for (var w = 0; w < words.Length; w++)
        {
            words[w] ^= rotated;
        }

        var tail = data[(data.Length & ~3)..];
        for (var t = 0; t < tail.Length; t++)
        {
            tail[t] ^= (byte)(rotated >> (8 * t));
        }

        return (index + data.Length) & 3;
    }

    /// <summary>The keep-alive's timer and the ping awaiting its pong.</summary>
    private sealed class KeepAliveState
    {
        public ITimer? Timer { get; set; }

        public TimeSpan Interval { get; init; }

        /// <summary>The pong timeout, or infinite for unsolicited pongs.</summary>
        public TimeSpan Timeout { get; init; }

        public long Payload { get; set; }

        public bool Outstanding { get; set; }

        public WebSocketException? Fault { get; set; }
    }
}
