using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A bound, listening socket whose connections the shared server (<see cref="ServerServices"/>) serves. Each accepted
/// connection carries this object as a feature: the server hands its requests to <see cref="Application"/> and, on a TLS
/// socket, asks <see cref="SelectTls"/> for the certificate. Stopping closes the socket (the port is free at once), asks
/// Kestrel to close each of its connections gracefully (idle keep-alive connections at once, requests in flight after
/// their response), and aborts what is still open after the shutdown timeout.
/// </summary>
internal sealed class ListenSocket : IAsyncDisposable
{
    private const int Backlog = 512;

    private readonly Socket _socket;
    private readonly ServerServices _server;
    private readonly ConnectionQueue _queue;
    private readonly ILogger _logger;
    private readonly bool _direct;
    private readonly ConcurrentDictionary<ConnectionContext, CancellationTokenRegistration> _open = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _accepting = Task.CompletedTask;
    private volatile bool _stopping;

    private ListenSocket(
        Socket socket, ServerServices server, bool tls, RequestDelegate application, Func<string?, SslServerAuthenticationOptions>? selectTls, Func<string, ConnectionContext, Vhosts.Vhost?>? routeUpgrade, ILogger logger)
    {
        _socket = socket;
        _server = server;
        _queue = server.QueueFor(tls);
        _logger = logger;
        Application = application;
        SelectTls = selectTls;
        RouteUpgrade = routeUpgrade;
        EndPoint = socket.LocalEndPoint!;
        _direct = !tls && routeUpgrade is not null;
    }

    /// <summary>The bound endpoint (with the real port when 0 was asked for), or the Unix socket's path.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The socket file, when the listener is a Unix domain socket; removed when the listener stops.</summary>
    private string? UnixPath => EndPoint is UnixDomainSocketEndPoint unix ? unix.ToString() : null;

    /// <summary>Handles the requests of this socket's connections.</summary>
    public RequestDelegate Application { get; }

    /// <summary>On a TLS socket, the TLS settings for the server name a client asks for (SNI).</summary>
    public Func<string?, SslServerAuthenticationOptions>? SelectTls { get; }

    /// <summary>
    /// For the WebSocket fast path: the vhost a clean upgrade naming a host goes to on a connection, when that vhost takes
    /// it itself (<see langword="null"/>: the request goes to Kestrel's pipeline).
    /// </summary>
    public Func<string, ConnectionContext, Vhosts.Vhost?>? RouteUpgrade { get; }

    /// <summary>Connections accepted and not yet closed.</summary>
    public int OpenConnections => _open.Count;

    /// <summary>
    /// Binds and listens on <paramref name="requested"/> (bound to <paramref name="device"/> when given; the vhost
    /// named <paramref name="owner"/> is named in binding errors; a Unix socket's file gets <paramref name="unixFile"/>'s
    /// mode and owner), then accepts until disposed.
    /// </summary>
    public static ListenSocket Start(
        ServerServices server,
        EndPoint requested,
        string? device,
        string owner,
        RequestDelegate application,
        Func<string?, SslServerAuthenticationOptions>? selectTls,
        Func<string, ConnectionContext, Vhosts.Vhost?>? routeUpgrade,
        ILogger logger,
        (string? Mode, string? Owner) unixFile = default)
    {
        var socket = requested switch
        {
            UnixDomainSocketEndPoint unix => UnixSocketFile.Bind(unix, owner, unixFile.Mode, unixFile.Owner),
            _ when device is null => SocketTransportOptions.CreateDefaultBoundListenSocket(requested),
            _ => InterfaceBinding.CreateBoundListenSocket(owner, device, requested),
        };
        try
        {
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            if (requested is UnixDomainSocketEndPoint)
            {
                UnixSocketFile.Remove(requested.ToString()!);
            }

            throw;
        }

        var listenSocket = new ListenSocket(socket, server, selectTls is not null, application, selectTls, routeUpgrade, logger);
        listenSocket._accepting = listenSocket.AcceptLoopAsync();
        return listenSocket;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (SocketException) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client gave up before the connection was accepted.
                continue;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or buffers: say so and keep the socket, as Kestrel does, without spinning.
                Log.AcceptFailed(_logger, ListenEndPoints.Display(EndPoint), ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(50), ServerServices.Time).ConfigureAwait(false);
                continue;
            }

            if (accepted.AddressFamily != AddressFamily.Unix)
            {
                // Nagle applies to TCP only; a Unix socket refuses the option.
                accepted.NoDelay = true;
            }

            if (_direct)
            {
                _ = TriageAsync(accepted);
            }
            else
            {
                Hand(_server.Connections.Create(accepted));
            }
        }
    }

    /// <summary>
    /// A plaintext socket's first bytes, peeked before Kestrel sees the connection (nothing is consumed): a clean upgrade
    /// that the fast path takes runs its session directly on the socket (<see cref="DirectConnection"/>); everything else
    /// (not an upgrade, a head not whole in the first bytes, anything odd, a handshake the vhost would refuse) goes to
    /// Kestrel with the socket untouched, where the fast path's middleware and then the HTTP pipeline see it as before. A
    /// client that sends nothing within the handshake timeout is closed without an answer, as Kestrel closes it.
    /// </summary>
    private async Task TriageAsync(Socket socket)
    {
        byte[]? peek = null;
        DecidedRefusal? decided = null;
        try
        {
            using (var timeout = new CancellationTokenSource(_server.HandshakeTimeout, ServerServices.Time))
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }

            // The peek and the routing run where the wait completed (with inline completions, the socket event thread):
            // none of it is plugin code, and a connection for Kestrel is handed over without a hop of ours.
            peek = ArrayPool<byte>.Shared.Rent(UpgradeRequestHead.MaxLength);
            var peeked = socket.Receive(peek, 0, UpgradeRequestHead.MaxLength, SocketFlags.Peek, out var error);
            var received = new ReadOnlySequence<byte>(peek, 0, error == SocketError.Success ? peeked : 0);
            if (UpgradeRequestHead.FindEnd(received) is > 0 and var end
                && UpgradeRequestHead.TryParse(received.Slice(0, end)) is { } head)
            {
                var connection = new DirectConnection(socket, this);
                if (RouteUpgrade!(head.Host, connection) is { } vhost)
                {
                    // The acceptor and the session's start run plugin code: on the thread pool, off any event thread.
                    await Task.Yield();

                    // Non-blocking from here: taking the head and the session's reads and sends try the socket at once
                    // and wait only when it would block.
                    socket.Blocking = false;
                    var request = new FastPathRequest(connection, head, vhost.Options.MaxMessageSize);
                    request.Received(peek);
                    var session = vhost.Acceptor.TryAcceptAsync(request, head.OffersExtensions, out var refusal);
                    if (request.Consumed && session is not null)
                    {
                        ArrayPool<byte>.Shared.Return(peek);
                        peek = null;
                        RunDirect(connection, session);
                        return;
                    }

                    decided = refusal is null ? null : new DecidedRefusal(refusal);
                    socket.Blocking = true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Nothing within the handshake timeout.
            Return(peek);
            socket.Dispose();
            return;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // Reset or closed by the client, or the listener stopped.
            Return(peek);
            socket.Dispose();
            return;
        }
        catch (Exception ex)
        {
            // A failure of ours or of a plugin's session start: this connection only.
            Log.DirectSessionFailed(_logger, ListenEndPoints.Display(EndPoint), "(accepting)", ex);
            Return(peek);
            socket.Dispose();
            return;
        }

        Return(peek);
        var handed = _server.Connections.Create(socket);
        if (decided is not null)
        {
            // Admission already ran (a rate token is spent): the HTTP path answers with this verdict, not a second one.
            handed.Features.Set(decided);
        }

        Hand(handed);

        static void Return(byte[]? peek)
        {
            if (peek is not null)
            {
                ArrayPool<byte>.Shared.Return(peek);
            }
        }
    }

    /// <summary>
    /// Tracks a direct connection until its session ends, then closes it. Nothing of this waits in the meantime: the
    /// session's task calls back (<see cref="DirectConnection.RunToEnd"/>).
    /// </summary>
    private void RunDirect(DirectConnection connection, Task session)
    {
        _open[connection] = default;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.DirectSession(_logger, ListenEndPoints.Display(EndPoint), connection.ConnectionId);
        }

        if (_stopping)
        {
            connection.Abort(new ConnectionAbortedException("The listener stopped."));
        }

        connection.RunToEnd(session);
    }

    /// <summary>The end of a direct connection's session: its failure logged (as Kestrel logs a connection's), the socket closed.</summary>
    internal async Task EndDirectAsync(DirectConnection connection, Task session)
    {
        if (session.Exception is { } failed)
        {
            Log.DirectSessionFailed(_logger, ListenEndPoints.Display(EndPoint), connection.ConnectionId, failed.GetBaseException());
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            Forget(connection);
        }
    }

    private void Hand(ConnectionContext connection)
    {
        connection.Features.Set(this);
        _open[connection] = connection.ConnectionClosed.Register(
            static state =>
            {
                var (socket, closed) = ((ListenSocket, ConnectionContext))state!;
                socket.Forget(closed);
            },
            (this, connection));
        if (!_queue.TryEnqueue(connection))
        {
            // The server is stopping.
            connection.Abort(new ConnectionAbortedException("The server is stopping."));
        }
    }

    private void Forget(ConnectionContext connection)
    {
        if (_open.TryRemove(connection, out var registration))
        {
            registration.Dispose();
        }

        if (_stopping && _open.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _socket.Dispose();
        if (UnixPath is { } path)
        {
            // The socket file goes with the listener (lws removes its inode on exit), so no stale file is left to find.
            UnixSocketFile.Remove(path);
        }

        await _accepting.ConfigureAwait(false);

        foreach (var connection in _open.Keys)
        {
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }

        if (_open.IsEmpty)
        {
            return;
        }

        if (await WaitDrainedAsync(ServerServices.ShutdownTimeout).ConfigureAwait(false))
        {
            return;
        }

        foreach (var connection in _open.Keys)
        {
            connection.Abort(new ConnectionAbortedException("The listener stopped."));
        }

        await WaitDrainedAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
    }

    private async Task<bool> WaitDrainedAsync(TimeSpan timeout)
    {
        if (_open.IsEmpty)
        {
            return true;
        }

        try
        {
            await _drained.Task.WaitAsync(timeout, ServerServices.Time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return _open.IsEmpty;
        }
    }
}
