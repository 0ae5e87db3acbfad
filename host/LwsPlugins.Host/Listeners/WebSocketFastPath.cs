using System.Buffers;
using System.IO.Pipelines;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Connections;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// Kestrel connection middleware on the shared server's endpoints (after TLS on the TLS one): it looks at a new
/// connection's first request without consuming it. A plain, well-formed WebSocket upgrade (<see cref="UpgradeRequestHead"/>)
/// that its routed vhost would accept as it is gets its 101 here and its session runs on the transport: no
/// Http1Connection, no HttpContext, no middleware pipeline. Everything else (not an upgrade, malformed, unusual, too
/// large, HTTP/2, a vhost with the fast path off, a handshake the vhost would refuse) goes to Kestrel's HTTP pipeline
/// with every byte still unread, and Kestrel stays the one place that answers and refuses HTTP.
/// </summary>
internal sealed class WebSocketFastPath(TimeSpan handshakeTimeout)
{
    public ConnectionDelegate Use(ConnectionDelegate next)
        => connection => connection.Features.Get<ListenSocket>()?.RouteUpgrade is { } route ? RunAsync(connection, route, next) : next(connection);

    /// <summary>
    /// The session's task, or Kestrel's pipeline's. When the head takes a while (the usual case) the connection's task is
    /// an unwrapped continuation: the state machine that read the head is gone once it has, and nothing of it is parked
    /// for the session's life (bench/RESULTS.md, idle memory).
    /// </summary>
    private Task RunAsync(ConnectionContext connection, Func<string, ConnectionContext, Vhost?> route, ConnectionDelegate next)
    {
        var taking = TakeAsync(connection, route);
        if (taking.IsCompletedSuccessfully)
        {
#pragma warning disable RS0030 // Result of a task that has completed: does not block.
            return taking.Result ?? next(connection);
#pragma warning restore RS0030
        }

        return taking.ContinueWith(
            static (taken, state) =>
            {
                var (connection, next) = ((ConnectionContext, ConnectionDelegate))state!;
#pragma warning disable RS0030 // The continuation of a completed task: does not block.
                return taken.Result ?? next(connection);
#pragma warning restore RS0030
            },
            (connection, next),
            CancellationToken.None,
            TaskContinuationOptions.DenyChildAttach,
            TaskScheduler.Default).Unwrap();
    }

    /// <summary>Reads the first request's head: the session's task when the fast path takes it, else <see langword="null"/> with nothing consumed.</summary>
    private async Task<Task?> TakeAsync(ConnectionContext connection, Func<string, ConnectionContext, Vhost?> route)
    {
        var input = connection.Transport.Input;
        Task? session = null;
        using (var timeout = new CancellationTokenSource(handshakeTimeout, ServerServices.Time))
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    // No complete head within the handshake timeout: Kestrel times it out in turn and answers as it does.
                    break;
                }

                var buffer = result.Buffer;
                var end = UpgradeRequestHead.FindEnd(buffer);
                if (end > 0)
                {
                    session = TryAccept(connection, buffer.Slice(0, end), buffer, route);
                    if (session is null)
                    {
                        input.AdvanceTo(buffer.Start);
                    }

                    break;
                }

                if (end < 0 || result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start);
                    break;
                }

                // An incomplete head: wait for more without consuming anything.
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        return session;
    }

    /// <summary>The session's task when the upgrade is taken (the head then consumed), else <see langword="null"/> with nothing consumed.</summary>
    private static Task? TryAccept(ConnectionContext connection, in ReadOnlySequence<byte> headBytes, in ReadOnlySequence<byte> received, Func<string, ConnectionContext, Vhost?> route)
    {
        if (UpgradeRequestHead.TryParse(headBytes) is not { } head || route(head.Host, connection) is not { } vhost)
        {
            return null;
        }

        var request = new FastPathRequest(connection, head, vhost.Options.MaxMessageSize);
        request.Received(received);
        var session = vhost.Acceptor.TryAcceptAsync(request, head.OffersExtensions, out var refusal);
        if (refusal is not null)
        {
            // Admission already ran (a rate token is spent): the HTTP path answers with this verdict, not a second one.
            connection.Features.Set(new DecidedRefusal(refusal));
        }

        return request.Consumed ? session : null;
    }
}
