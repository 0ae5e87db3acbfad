using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Sessions;

/// <summary>
/// The upgrade and the lifetime of a WebSocket request, in one object per connection (it lives as long as the session).
/// <para>
/// As <see cref="IHttpUpgradeFeature"/> it hands the WebSocket middleware the upgraded connection wrapped in a
/// <see cref="ClientFrameGuardStream"/>.
/// </para>
/// <para>
/// As <see cref="IHttpRequestLifetimeFeature"/> it ends a failed WebSocket connection with its close frame and a FIN
/// rather than a reset. When the WebSocket fails the connection (a protocol error, or our frame guard), it sends its
/// close frame, aborts itself, and ASP.NET Core's WebSocket middleware then aborts the request, which makes Kestrel reset
/// the TCP connection: the reset can overtake the close frame, and the client never learns the close code RFC 6455
/// names. Once a close frame is out, that abort is not passed on: the session ends, the request completes, and Kestrel
/// closes the connection gracefully. Aborts the host asks for (<see cref="Force"/>: a close that timed out, a vhost drain
/// that ran out of time) still reset.
/// </para>
/// </summary>
internal sealed class UpgradedConnectionLifetime(IHttpUpgradeFeature upgrade, IHttpRequestLifetimeFeature? lifetime, long maxMessageSize)
    : IHttpUpgradeFeature, IHttpRequestLifetimeFeature
{
    private volatile bool _forced;

    public bool IsUpgradableRequest => upgrade.IsUpgradableRequest;

    /// <summary>The guard over the upgraded connection, once upgraded.</summary>
    public ClientFrameGuardStream? Guard { get; private set; }

    public CancellationToken RequestAborted
    {
        get => lifetime?.RequestAborted ?? default;
        set
        {
            if (lifetime is not null)
            {
                lifetime.RequestAborted = value;
            }
        }
    }

    public async Task<Stream> UpgradeAsync()
        => Guard = new ClientFrameGuardStream(await upgrade.UpgradeAsync().ConfigureAwait(false), maxMessageSize);

    /// <summary>The next abort goes through, close frame or not.</summary>
    public void Force() => _forced = true;

    public void Abort()
    {
        if (!_forced && Guard is { CloseFrameSent: true })
        {
            return;
        }

        lifetime?.Abort();
    }
}
