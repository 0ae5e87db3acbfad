using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Sessions;

/// <summary>Hands the WebSocket middleware the upgraded connection wrapped in a <see cref="ClientFrameGuardStream"/>.</summary>
internal sealed class GuardedUpgradeFeature(IHttpUpgradeFeature inner, long maxMessageSize) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>The guard over the upgraded connection, once upgraded.</summary>
    public ClientFrameGuardStream? Guard { get; private set; }

    public async Task<Stream> UpgradeAsync()
        => Guard = new ClientFrameGuardStream(await inner.UpgradeAsync().ConfigureAwait(false), maxMessageSize);
}
