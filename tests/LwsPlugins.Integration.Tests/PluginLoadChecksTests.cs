using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Integration.Tests;

/// <summary>The load-time checks on a real built plugin (the lifecycle test plugin) copied into a temp plugins folder.</summary>
[TestFixture]
public sealed class PluginLoadChecksTests
{
    [Test]
    public async Task BuiltPluginWithAPrivateCopyOfTheSdk_IsRefusedNamingTheFileAndTheFix_WhileTheCleanCopyLoads()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "lifecycle");
        var copy = Path.Combine(plugins.Path, "lifecycle", "LwsPlugins.Sdk.dll");
        await using (var clean = new PluginCatalog(plugins.Path, TimeProvider.System, NullLoggerFactory.Instance))
        {
            Assert.That(clean.Load(Path.Combine(plugins.Path, "lifecycle"))!.Next!.State, Is.EqualTo(PluginGenerationState.Active));
        }

        File.Copy(Path.Combine(AppContext.BaseDirectory, "LwsPlugins.Sdk.dll"), copy);
        await using var catalog = new PluginCatalog(plugins.Path, TimeProvider.System, NullLoggerFactory.Instance);

        var generation = catalog.Load(Path.Combine(plugins.Path, "lifecycle"))!.Next!;

        Assert.That(generation.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(generation.Error, Does.StartWith(copy + ": the plugin carries its own copy of LwsPlugins.Sdk.dll"));
        Assert.That(generation.Error, Does.Contain("reference the LwsPlugins.Sdk NuGet package").And.Contain("or delete the file"));
    }

    [Test]
    public async Task BuiltPluginWhoseManifestNeedsAnotherSdk_IsRefusedNamingTheManifestAndTheFix()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "lifecycle");
        var manifest = Path.Combine(plugins.Path, "lifecycle", "lifecycle.json");
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("[1.0.0, 2.0.0)", "[2.0.0, 3.0.0)", StringComparison.Ordinal));
        await using var catalog = new PluginCatalog(plugins.Path, TimeProvider.System, NullLoggerFactory.Instance);

        var generation = catalog.Load(Path.Combine(plugins.Path, "lifecycle"))!.Next!;

        Assert.That(generation.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(generation.Error, Does.StartWith(manifest + ": sdk: the plugin needs SDK"));
        Assert.That(generation.Error, Does.Contain("Fix: rebuild the plugin against LwsPlugins.Sdk 1.x"));
    }

    [Test]
    public void BuiltPlugin_ReferencesTheHostsSdkAssemblyVersion()
        => Assert.That(
            PluginAssemblyChecks.ReadSdkReference(Path.Combine(LoopbackServer.TestPluginsPath, "lifecycle", "LwsPlugins.TestPlugins.Lifecycle.dll")),
            Is.EqualTo(PluginAssemblyChecks.HostSdkAssemblyVersion));
}
