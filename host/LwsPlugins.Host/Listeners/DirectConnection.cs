using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A plaintext connection whose WebSocket session the fast path runs on the accepted socket itself, without a Kestrel
/// connection: no transport pipes (the reader holds no buffer between messages: a zero-byte receive waits for data), no
/// send loop, no connection state machine. Only the fast path makes one (<see cref="ListenSocket"/>), for a clean upgrade
/// it has taken; what is not taken goes to Kestrel with the socket untouched. Closing it ends with a FIN, as Kestrel's
/// socket transport does, aborts included.
/// </summary>
internal sealed class DirectConnection : ConnectionContext, IDuplexPipe
{
    private static readonly StreamPipeWriterOptions s_writerOptions = new(leaveOpen: true);
    private static long s_lastId;

    private readonly Socket _socket;
    private readonly ListenSocket _owner;
    private readonly long _id;
    private Task? _session;
    private string? _connectionId;
    private IFeatureCollection? _features;
    private IDictionary<object, object?>? _items;
    private SocketStream? _stream;
    private PipeReader? _input;
    private PipeWriter? _output;
    private int _closed;

    public DirectConnection(Socket socket, ListenSocket owner)
    {
        _socket = socket;
        _owner = owner;
        _id = Interlocked.Increment(ref s_lastId);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
    }

    public override string ConnectionId
    {
        get => _connectionId ??= "direct-" + _id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => _features ??= new FeatureCollection(1);

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport
    {
        get => this;
        set => throw new NotSupportedException("A direct connection's transport is its socket.");
    }

    /// <summary>
    /// Whether the runtime completes socket operations on its event threads (Program.cs sets it for the server): then what
    /// waited on the socket resumes on the thread pool, so no session or plugin code runs on an event thread.
    /// </summary>
    internal static bool InlineCompletions { get; } = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

    public PipeReader Input => _input ??= new SocketPipeReader(_socket, InlineCompletions);

    public PipeWriter Output => _output ??= PipeWriter.Create(Stream, s_writerOptions);

    private SocketStream Stream => _stream ??= new SocketStream(_socket);

    /// <summary>
    /// Takes <paramref name="length"/> bytes the fast path has peeked (so they are in the socket's receive buffer) off the
    /// socket, into <paramref name="scratch"/>: the request head, once the session is accepted.
    /// </summary>
    public void Consume(int length, byte[] scratch)
    {
        var taken = 0;
        while (taken < length)
        {
            var received = _socket.Receive(scratch, taken, length - taken, SocketFlags.None, out var error);
            if (error != SocketError.Success || received == 0)
            {
                throw new IOException($"the client closed the connection while its upgrade was being accepted ({error}).");
            }

            taken += received;
        }
    }

    /// <summary>Closes the connection once <paramref name="session"/> ends (a callback on its task: nothing parked meanwhile).</summary>
    public void RunToEnd(Task session)
    {
        _session = session;
        session.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(SessionEnded);
    }

    private void SessionEnded() => _ = _owner.EndDirectAsync(this, _session!);

    public override void Abort(ConnectionAbortedException abortReason) => Close();

    public override async ValueTask DisposeAsync()
    {
        if (_output is { } output)
        {
            try
            {
                // What a session wrote last (its close frame) reaches the wire before the FIN.
                await output.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The peer has gone; nothing left to write to.
            }
        }

        if (_input is { } input)
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }

        Close();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            // A FIN even for aborts, as Kestrel's socket transport: the peer reads the end rather than a reset.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    /// <summary>
    /// The socket as the stream the output pipe writes. A send that had to wait continues on the thread pool, not on the
    /// runtime's socket event thread that completed it (<see cref="InlineCompletions"/>).
    /// </summary>
    private sealed class SocketStream(Socket socket) : System.IO.Stream
    {
        public override bool CanRead => false;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The connection reads with its SocketPipeReader.");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (!buffer.IsEmpty)
            {
                // The socket is non-blocking: a send that fits the socket's buffer completes here, with no receive-style
                // event args of the socket's kept for the connection's life; only a full buffer waits.
                var sent = socket.Send(buffer.Span, SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    buffer = buffer[sent..];
                    continue;
                }

                if (error != SocketError.WouldBlock)
                {
                    throw new SocketException((int)error);
                }

                buffer = buffer[await WaitedAsync(socket.SendAsync(buffer, SocketFlags.None, cancellationToken)).ConfigureAwait(false)..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var sent = socket.Send(buffer, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock && socket.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectWrite))
                {
                    continue;
                }

                if (error != SocketError.Success)
                {
                    throw new SocketException((int)error);
                }

                buffer = buffer[sent..];
            }
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private static async ValueTask<int> WaitedAsync(ValueTask<int> pending)
        {
            var result = await pending.ConfigureAwait(false);
            if (InlineCompletions)
            {
                await Task.Yield();
            }

            return result;
        }
    }
}
