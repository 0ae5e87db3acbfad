using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Sessions;

/// <summary>
/// Ends a failed WebSocket connection with its close frame and a FIN rather than a reset. When the WebSocket fails the
/// connection (a protocol error, or our frame guard), it sends its close frame, aborts itself, and ASP.NET Core's
/// WebSocket middleware then aborts the request, which makes Kestrel reset the TCP connection: the reset can overtake
/// the close frame, and the client never learns the close code RFC 6455 names. Once a close frame is out, that abort
/// is not passed on: the session ends, the request completes, and Kestrel closes the connection gracefully. Aborts the
/// host asks for (<see cref="Force"/>: a close that timed out, a vhost drain that ran out of time) still reset.
/// </summary>
internal sealed class UpgradedConnectionLifetime(IHttpRequestLifetimeFeature inner, GuardedUpgradeFeature upgrade) : IHttpRequestLifetimeFeature
{
    private volatile bool _forced;

    public CancellationToken RequestAborted
    {
        get => inner.RequestAborted;
        set => inner.RequestAborted = value;
    }

    /// <summary>The next abort goes through, close frame or not.</summary>
    public void Force() => _forced = true;

    public void Abort()
    {
        if (!_forced && upgrade.Guard is { CloseFrameSent: true })
        {
            return;
        }

        inner.Abort();
    }
}
