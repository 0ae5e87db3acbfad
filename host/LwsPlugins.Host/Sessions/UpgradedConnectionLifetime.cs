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
/// <para>
/// Over HTTP/2 (RFC 8441) it is the <see cref="IHttpExtendedConnectFeature"/> instead, so the same guard sits on the
/// stream; an abort then resets that stream, not the connection its siblings share.
/// </para>
/// </summary>
internal sealed class UpgradedConnectionLifetime(IHttpUpgradeFeature? upgrade, IHttpRequestLifetimeFeature? lifetime, long maxMessageSize, IHttpExtendedConnectFeature? connect = null)
    : IHttpUpgradeFeature, IHttpRequestLifetimeFeature, IHttpExtendedConnectFeature
{
    private volatile bool _forced;

    public bool IsUpgradableRequest => upgrade?.IsUpgradableRequest ?? false;

    public bool IsExtendedConnect => connect?.IsExtendedConnect ?? false;

    public string? Protocol => connect?.Protocol;

    public async ValueTask<Stream> AcceptAsync()
        => Guard = new ClientFrameGuardStream(
            await (connect ?? throw new InvalidOperationException("not an extended CONNECT request")).AcceptAsync().ConfigureAwait(false), maxMessageSize);

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
        => Guard = new ClientFrameGuardStream(
            await (upgrade ?? throw new InvalidOperationException("not an upgradable request")).UpgradeAsync().ConfigureAwait(false), maxMessageSize);

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
