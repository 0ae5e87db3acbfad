using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Plugins.Reload;

/// <summary>The reload step at the context's edges: a change the watcher reports while (or after) the context stops.</summary>
[TestFixture]
public sealed class PluginReloaderTests
{
    [Test]
    public async Task AReloadAskedForAfterTheContextStopped_LoadsNothing_AndDoesNotThrow()
    {
        using var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        var context = new LwsContext(new LwsServerOptions { PluginsPath = folder.Path, WatchPlugins = false }, NullLoggerFactory.Instance, new FakeTimeProvider(), AppContext.BaseDirectory);
        await context.StartAsync(CancellationToken.None);
        File.AppendAllText(Path.Combine(folder.Path, "dumb-increment", "notes.txt"), "changed while stopping");

        await context.DisposeAsync();
        var change = await context.ReloadPluginAsync(Path.Combine(folder.Path, "dumb-increment"));

        Assert.That(change, Is.Null);
    }

    [Test]
    public async Task AReloadInProgress_IsWaitedFor_BeforeTheContextLetsGoOfItsVhosts()
    {
        using var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        var context = new LwsContext(new LwsServerOptions { PluginsPath = folder.Path, WatchPlugins = false }, NullLoggerFactory.Instance, new FakeTimeProvider(), AppContext.BaseDirectory);
        await context.StartAsync(CancellationToken.None);
        File.AppendAllText(Path.Combine(folder.Path, "dumb-increment", "notes.txt"), "a new generation");

        var reloading = context.ReloadPluginAsync(Path.Combine(folder.Path, "dumb-increment"));
        var disposing = context.DisposeAsync().AsTask();

        Assert.That(async () => await Task.WhenAll(reloading, disposing).WaitAsync(TimeSpan.FromSeconds(30)), Throws.Nothing);
    }
}
