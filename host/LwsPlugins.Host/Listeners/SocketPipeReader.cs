using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A <see cref="PipeReader"/> straight over a non-blocking socket, for <see cref="DirectConnection"/>: one contiguous
/// pooled buffer that exists only while unconsumed bytes do, so a reader waiting between messages holds no buffer and no
/// async method of its own: it waits with a zero-byte receive on the socket's one cached receive operation, then takes
/// what has arrived with a non-blocking receive. A read that had to wait resumes its reader on the thread pool when the
/// runtime completes socket operations on its event threads (Program.cs), as Kestrel's pipes do, so no session or plugin
/// code runs on an event thread. One reader at a time, as for every <see cref="PipeReader"/>.
/// </summary>
internal sealed class SocketPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private const int MinimumReceive = 4096;

    private readonly Socket _socket;
    private readonly Action _onReceived;

    // Reads and advances come from the one consumer; the wake-up, cancellations and CancelPendingRead from any thread.
    private readonly Lock _gate = new();
    private ManualResetValueTaskSourceCore<ReadResult> _source;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _receiving;
    private CancellationTokenRegistration _cancellation;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private int _examined;
    private bool _receivePending;
    private bool _waiting;
    private bool _readCanceled;
    private bool _ended;
    private bool _completed;
    private Exception? _error;

    public SocketPipeReader(Socket socket, bool resumeOnThreadPool)
    {
        _socket = socket;
        _onReceived = OnReceived;
        _source.RunContinuationsAsynchronously = resumeOnThreadPool;
    }

    /// <summary>Whether a receive buffer is held (none while everything read is consumed).</summary>
    internal bool HoldsBuffer
    {
        get
        {
            lock (_gate)
            {
                return _buffer is not null;
            }
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            if (_waiting)
            {
                throw new InvalidOperationException("A read is already pending on this reader.");
            }

            try
            {
                if (TryTakeOrWait(out var result))
                {
                    return new ValueTask<ReadResult>(result);
                }
            }
            catch (IOException ex)
            {
                return ValueTask.FromException<ReadResult>(ex);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ReadResult>(cancellationToken);
            }

            _source.Reset();
            _waiting = true;
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.UnsafeRegister(static (state, token) => ((SocketPipeReader)state!).Canceled(token), this);
            lock (_gate)
            {
                _cancellation = registration;
            }
        }

        return new ValueTask<ReadResult>(this, _source.Version);
    }

    public override bool TryRead(out ReadResult result)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            return TryReadCore(out result) || (!_receivePending && TakeAvailable() && TryReadCore(out result));
        }
    }

    /// <summary>A result when there is one now; otherwise a zero-byte receive is left pending to say when there may be.</summary>
    private bool TryTakeOrWait(out ReadResult result)
    {
        if (TryReadCore(out result))
        {
            return true;
        }

        while (!_receivePending)
        {
            if (TakeAvailable() && TryReadCore(out result))
            {
                return true;
            }

            // Completes at once when the socket became readable meanwhile: then take again.
            StartWait();
        }

        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        lock (_gate)
        {
            if (_buffer is null)
            {
                return;
            }

            var consumedAt = consumed.GetInteger();
            var examinedAt = examined.GetInteger();
            if (!ReferenceEquals(consumed.GetObject(), _buffer) || consumedAt < _start || examinedAt < consumedAt || examinedAt > _end)
            {
                throw new InvalidOperationException("The positions given are not of the last buffer read.");
            }

            _start = consumedAt;
            _examined = examinedAt;

            // Everything consumed: the buffer goes back to the pool, and a waiting reader holds none.
            ReleaseIfEmpty();
        }
    }

    public override void CancelPendingRead()
    {
        lock (_gate)
        {
            if (!_waiting)
            {
                _readCanceled = true;
                return;
            }

            _readCanceled = false;
        }

        Finish(new ReadResult(default, isCanceled: true, isCompleted: false), null);
    }

    public override void Complete(Exception? exception = null)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            // A receive still pending is a zero-byte one: it holds nothing of ours.
            _completed = true;
            if (_buffer is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _buffer = null;
            }
        }
    }

    private ReadOnlySequence<byte> Buffered => _buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_buffer, _start, _end - _start);

    /// <summary>A result when there is one to give now: new bytes, the end, an error, or a cancellation asked for before.</summary>
    private bool TryReadCore(out ReadResult result)
    {
        if (_readCanceled)
        {
            _readCanceled = false;
            result = new ReadResult(Buffered, isCanceled: true, isCompleted: false);
            return true;
        }

        if (_error is { } error)
        {
            _error = null;
            _ended = true;
            throw new IOException("the connection failed: " + error.Message, error);
        }

        if (_end > _examined || _ended)
        {
            result = new ReadResult(Buffered, isCanceled: false, isCompleted: _ended);
            return true;
        }

        result = default;
        return false;
    }

    /// <summary>Receives what the socket has without waiting; whether anything (bytes, the end, an error) came.</summary>
    private bool TakeAvailable()
    {
        if (_ended || _error is not null)
        {
            return true;
        }

        var free = FreeSpace();
        int received;
        SocketError error;
        try
        {
            received = _socket.Receive(free, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException ex)
        {
            // The connection was closed while the reader waited.
            _error = ex;
            ReleaseIfEmpty();
            return true;
        }

        switch (error)
        {
            case SocketError.Success when received == 0:
                _ended = true;
                ReleaseIfEmpty();
                return true;
            case SocketError.Success:
                _end += received;
                return true;
            case SocketError.WouldBlock:
                ReleaseIfEmpty();
                return false;
            default:
                _error = new SocketException((int)error);
                ReleaseIfEmpty();
                return true;
        }
    }

    /// <summary>Waits for the socket to become readable with a zero-byte receive (no buffer held while it waits).</summary>
    private void StartWait()
    {
        ValueTask<int> receiving;
        try
        {
            receiving = _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
        }
        catch (ObjectDisposedException ex)
        {
            _error = ex;
            return;
        }

        if (receiving.IsCompleted)
        {
            Received(receiving);
            return;
        }

        _receivePending = true;
        _receiving = receiving.ConfigureAwait(false).GetAwaiter();
        _receiving.UnsafeOnCompleted(_onReceived);
    }

    // A socket completion's callback (with inline completions, on the runtime's event thread): it must not throw, or the
    // process ends. Every failure becomes the waiting read's.
    private void OnReceived()
    {
        try
        {
            OnReceivedCore();
        }
        catch (Exception ex)
        {
            Finish(default, ex is IOException ? ex : new IOException("the connection failed: " + ex.Message, ex));
        }
    }

    private void OnReceivedCore()
    {
        ReadResult result = default;
        Exception? failed = null;
        lock (_gate)
        {
            _receivePending = false;
            var awaiter = _receiving;
            _receiving = default;
            try
            {
#pragma warning disable RS0030 // The awaiter's completion callback: its result is there, nothing blocks.
                awaiter.GetResult();
#pragma warning restore RS0030
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                _error = ex;
            }

            if (_completed || !_waiting)
            {
                // The next read takes what has come.
                return;
            }

            try
            {
                if (!TryTakeOrWait(out result))
                {
                    // Readable, yet nothing to take: waiting again.
                    return;
                }
            }
            catch (IOException ex)
            {
                failed = ex;
            }

            if (!_waiting)
            {
                return;
            }
        }

        Finish(result, failed);
    }

    /// <summary>Completes the waiting read, once: the wake-up, a cancellation and CancelPendingRead may race for it.</summary>
    private void Finish(ReadResult result, Exception? failed)
    {
        CancellationTokenRegistration cancellation;
        lock (_gate)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            cancellation = _cancellation;
            _cancellation = default;
            if (failed is null)
            {
                result = new ReadResult(Buffered, result.IsCanceled, result.IsCompleted);
            }
        }

        cancellation.Dispose();
        if (failed is null)
        {
            _source.SetResult(result);
        }
        else
        {
            _source.SetException(failed);
        }
    }

    private void Received(ValueTask<int> completed)
    {
        try
        {
#pragma warning disable RS0030 // A completed receive: its result is there, nothing blocks.
            _ = completed.Result;
#pragma warning restore RS0030
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _error = ex;
        }
    }

    // The socket's receive stays pending; the next read picks it up.
    private void Canceled(CancellationToken token) => Finish(default, new OperationCanceledException(token));

    /// <summary>Room for the next receive after what is buffered: the pool's buffer, grown (and compacted) when full.</summary>
    private Span<byte> FreeSpace()
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(MinimumReceive);
            _start = _end = _examined = 0;
        }
        else if (_end == _buffer.Length)
        {
            var length = _end - _start;
            var target = length * 2 > _buffer.Length ? ArrayPool<byte>.Shared.Rent(_buffer.Length * 2) : _buffer;
            Buffer.BlockCopy(_buffer, _start, target, 0, length);
            if (!ReferenceEquals(target, _buffer))
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = target;
            }

            _examined -= _start;
            _end = length;
            _start = 0;
        }

        return _buffer.AsSpan(_end);
    }

    private void ReleaseIfEmpty()
    {
        if (_buffer is not null && _start == _end)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _start = _end = _examined = 0;
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);
}
