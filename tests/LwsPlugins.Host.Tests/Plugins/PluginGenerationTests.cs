using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Plugins;

/// <summary>A generation's life in reload vocabulary: active, retired (draining while instances live), unloaded.</summary>
[TestFixture]
public sealed class PluginGenerationTests
{
    private PluginFolder _folder = null!;
    private PluginCatalog _catalog = null!;
    private PluginGeneration _generation = null!;

    [SetUp]
    public void Load()
    {
        _folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        _catalog = new PluginCatalog(_folder.Path, new FakeTimeProvider(), NullLoggerFactory.Instance);
        _generation = _catalog.Load(Path.Combine(_folder.Path, "dumb-increment"))!.Next!;
    }

    [TearDown]
    public async Task Dispose()
    {
        await _catalog.DisposeAsync();
        _folder.Dispose();
    }

    [Test]
    public void Retire_WithoutInstances_UnloadsAtOnce()
    {
        _generation.Retire();

        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Unloaded));
        Assert.That(_generation.Protocols, Is.Empty, "nothing of the unloaded code is reachable from the generation");
    }

    [Test]
    public async Task Retire_WithALiveInstance_Drains_AndTheLastReleaseUnloads()
    {
        _generation.AcquireInstance();
        _generation.AcquireInstance();

        _generation.Retire();
        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Draining));

        await _generation.ReleaseInstanceAsync();
        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Draining), "one instance lives on");

        await _generation.ReleaseInstanceAsync();
        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Unloaded));
    }

    [Test]
    public async Task ReleasingAnInstanceOfAnActiveGeneration_KeepsItLoaded()
    {
        _generation.AcquireInstance();

        await _generation.ReleaseInstanceAsync();

        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Active));
        Assert.That(_generation.Protocols.Keys, Is.EqualTo(new[] { "dumb-increment-protocol" }));
    }

    [Test]
    public void Retire_IsIdempotent_AndLeavesAFailedGenerationFailed()
    {
        _generation.Retire();
        _generation.Retire();
        Assert.That(_generation.State, Is.EqualTo(PluginGenerationState.Unloaded));

        var failed = PluginGeneration.Failed("broken", 1, null, DateTimeOffset.UnixEpoch, "no manifest", null);
        failed.Retire();
        Assert.That(failed.State, Is.EqualTo(PluginGenerationState.Failed));
    }
}
