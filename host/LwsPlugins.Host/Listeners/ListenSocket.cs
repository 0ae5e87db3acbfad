using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using LwsPlugins.Host.Logging;
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

            Hand(_server.Connections.Create(accepted));
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
