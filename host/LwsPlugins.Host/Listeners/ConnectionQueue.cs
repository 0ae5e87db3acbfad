using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// One of the shared Kestrel server's own endpoints (plain or TLS): Kestrel binds it once, at start, and accepts from it
/// the connections that the listen sockets of its kind put in. Listen sockets come and go at run time; the endpoint, its
/// connection middleware (TLS) and Kestrel's accept loop stay.
/// </summary>
internal sealed class ConnectionQueue : IConnectionListener
{
    // Kestrel's accept loop (the one reader) runs on in the accepting thread: all it does per connection is queue the
    // connection to the thread pool and wait for the next, so a connection costs one thread hop from accept, as on
    // Kestrel's own socket transport, not two.
    private readonly Channel<ConnectionContext> _connections = Channel.CreateUnbounded<ConnectionContext>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = true });

    public ConnectionQueue(string kind) => EndPoint = new QueueEndPoint(this, kind);

    public EndPoint EndPoint { get; }

    /// <summary>Hands an accepted connection to Kestrel; <see langword="false"/> once the server has stopped.</summary>
    public bool TryEnqueue(ConnectionContext connection) => _connections.Writer.TryWrite(connection);

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _connections.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_connections.Reader.TryRead(out var connection))
                {
                    return connection;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        // Kestrel stops accepting from this endpoint.
        return null;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _connections.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _connections.Writer.TryComplete();
        while (_connections.Reader.TryRead(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The endpoint Kestrel binds; it names the queue, so binding it returns the queue.</summary>
    internal sealed class QueueEndPoint(ConnectionQueue queue, string kind) : EndPoint
    {
        public ConnectionQueue Queue { get; } = queue;

        public override string ToString() => "lws-listeners:" + kind;
    }
}

/// <summary>Binds the shared server's own endpoints to their queues; Kestrel's transport for everything it listens on.</summary>
internal sealed class ConnectionQueueFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is ConnectionQueue.QueueEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        => endpoint is ConnectionQueue.QueueEndPoint queue
            ? ValueTask.FromResult<IConnectionListener>(queue.Queue)
            : throw new NotSupportedException($"The listeners' server binds only its own endpoints, not {endpoint}.");
}
