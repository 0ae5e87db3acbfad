using Microsoft.Extensions.Hosting;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A listener's web host must not hook the console's signals (the process has one lifetime, the server's), so each
/// listener gets this lifetime that does nothing.
/// </summary>
internal sealed class ListenerHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
