using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Plugins;

/// <summary>The catalog on its own, over a real plugin folder: generations, unchanged files, failures, removal, conflicts.</summary>
[TestFixture]
public sealed class PluginCatalogTests
{
    private PluginFolder _folder = null!;
    private PluginCatalog _catalog = null!;

    [SetUp]
    public void Create()
    {
        _folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        _catalog = new PluginCatalog(_folder.Path, new FakeTimeProvider(), NullLoggerFactory.Instance);
    }

    [TearDown]
    public async Task Dispose()
    {
        await _catalog.DisposeAsync();
        _folder.Dispose();
    }

    private string Plugin(string id) => Path.Combine(_folder.Path, id);

    [Test]
    public void Load_OfARealPluginFolder_PublishesAnActiveFirstGeneration_AndItsProtocol()
    {
        var change = _catalog.Load(Plugin("dumb-increment"));

        Assert.That(change, Is.Not.Null);
        Assert.That(change!.Previous, Is.Null);
        Assert.That(change.Next!.State, Is.EqualTo(PluginGenerationState.Active));
        Assert.That(change.Next.Number, Is.EqualTo(1));
        Assert.That(_catalog.ProtocolNames, Is.EqualTo(new[] { "dumb-increment-protocol" }));
        Assert.That(_catalog.TryGetProtocol("dumb-increment-protocol", out var export) && export.Generation == change.Next, Is.True);
    }

    [Test]
    public void Load_OfFilesThatDidNotChange_IsNoChange()
    {
        _catalog.Load(Plugin("dumb-increment"));

        Assert.That(_catalog.Load(Plugin("dumb-increment")), Is.Null);
        Assert.That(_catalog.Plugins.Single().Generations, Has.Count.EqualTo(1));
    }

    [Test]
    public void Load_AfterAFileChanged_PublishesTheNextGeneration_WhileThePreviousStaysUntilRetired()
    {
        var first = _catalog.Load(Plugin("dumb-increment"))!.Next!;
        File.AppendAllText(Path.Combine(Plugin("dumb-increment"), "notes.txt"), "a changed file");

        var change = _catalog.Load(Plugin("dumb-increment"))!;

        Assert.That(change.Previous, Is.SameAs(first));
        Assert.That(change.Next!.Number, Is.EqualTo(2));
        Assert.That(_catalog.TryGetProtocol("dumb-increment-protocol", out var export) && export.Generation == change.Next, Is.True);
        Assert.That(first.State, Is.EqualTo(PluginGenerationState.Active), "the catalog publishes; retiring is the reload's step");
    }

    [Test]
    public void Load_OfAFolderWithoutManifest_RecordsAFailedGeneration_NamingTheExpectedFile()
    {
        _folder.WriteFile("empty", "readme.txt", "no manifest here");

        var change = _catalog.Load(Plugin("empty"))!;

        Assert.That(change.Next!.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change.Next.Error, Does.Contain("empty.json"));
        Assert.That(change.SwitchesGeneration, Is.False, "a failure leaves what serves in place");
    }

    [Test]
    public void Load_OfAPluginWhoseProtocolAnotherServes_IsRefusedNamingTheOwner()
    {
        _catalog.Load(Plugin("dumb-increment"));
        PluginFolder.CopyTree(Plugin("dumb-increment"), Plugin("copycat"));
        File.Move(Path.Combine(Plugin("copycat"), "dumb-increment.json"), Path.Combine(Plugin("copycat"), "copycat.json"));
        var manifest = Path.Combine(Plugin("copycat"), "copycat.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"id\": \"dumb-increment\"", "\"id\": \"copycat\"", StringComparison.Ordinal));

        var change = _catalog.Load(Plugin("copycat"))!;

        Assert.That(change.Next!.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change.Next.Error, Does.Contain("'dumb-increment-protocol' is already provided by plugin 'dumb-increment'"));
        Assert.That(_catalog.TryGetProtocol("dumb-increment-protocol", out var export) && export.Generation.PluginId == "dumb-increment", Is.True);
    }

    [Test]
    public void Remove_UnindexesThePluginsProtocols_AndReturnsItsServingGenerationToRetire()
    {
        var loaded = _catalog.Load(Plugin("dumb-increment"))!.Next;

        var change = _catalog.Remove(Plugin("dumb-increment"))!;

        Assert.That(change.Previous, Is.SameAs(loaded));
        Assert.That(change.Next, Is.Null);
        Assert.That(_catalog.TryGetProtocol("dumb-increment-protocol", out _), Is.False);
        Assert.That(_catalog.Remove(Plugin("dumb-increment")), Is.Null, "removed once");
        Assert.That(_catalog.Remove(Plugin("never-seen")), Is.Null);
    }

    [Test]
    public async Task CheckOfTheDefaultOptions_RefusesTheGeneration_NamingTheManifestKey()
    {
        await using var catalog = new PluginCatalog(_folder.Path, new FakeTimeProvider(), NullLoggerFactory.Instance, _ => "intervalMs must be between 1 and 60000, was 0.");

        var change = catalog.Load(Plugin("dumb-increment"))!;

        Assert.That(change.Next!.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change.Next.Error, Does.Contain("dumb-increment.json").And.Contain("protocols.dumb-increment-protocol").And.Contain("was 0"));
    }
}
