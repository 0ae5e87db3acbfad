using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Dropping a plugin folder in is the whole install, as in lws: a vhost that lists no protocols serves every loaded
/// plugin, live as folders come and go, from a plugins folder that may not even exist when the server starts.
/// </summary>
[TestFixture]
public sealed class DropInPluginTests
{
    private string _root = null!;

    [SetUp]
    public void CreateRoot() => _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "lws-dropin-" + Guid.NewGuid().ToString("N"))).FullName;

    [TearDown]
    public void DeleteRoot()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A load context may still map a file; the OS temp cleaner takes it later.
        }
    }

    [Test]
    public async Task PluginsCopiedIntoAFolderThatDidNotExist_AreServedOnTheVhostWithoutAList_AndARemovedOneRefusesNewHandshakesWhileOthersCarryOn()
    {
        var plugins = Path.Combine(_root, "not", "yet", "plugins");
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = plugins, Vhosts = [new VhostOptions { Name = "localhost", Port = 0 }] }, TimeProvider.System);
        Assert.That(server.Logs.Entries.Select(e => e.Message), Has.Some.Contains($"Plugins folder {plugins} does not exist; watching {_root} for it"));
        Assert.That(await HandshakeAsync(server, "dumb-increment-protocol"), Is.EqualTo(HttpStatusCode.BadRequest), "nothing is loaded yet");

        Directory.CreateDirectory(plugins);
        foreach (var id in new[] { "dumb-increment", "mirror" })
        {
            PluginFolder.CopyTree(Path.Combine(LoopbackServer.BundledPluginsPath, id), Path.Combine(plugins, id));
        }

        // Each plugin folder loads on its own once its files are whole.
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(server, "lws-mirror-protocol") == HttpStatusCode.SwitchingProtocols);
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(server, "dumb-increment-protocol") == HttpStatusCode.SwitchingProtocols);
        await using var counter = await WsClient.ConnectAsync(server.WebSocketUri("localhost"), "dumb-increment-protocol");
        Assert.That(counter.SubProtocol, Is.EqualTo("dumb-increment-protocol"));
        Assert.That(int.Parse(await counter.ReceiveTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(0));
        var served = server.Context.Status.GetSnapshot().Vhosts.Single().Protocols;
        Assert.That(served.Select(p => (p.Name, p.SelectedBy, p.State)), Is.EquivalentTo(new[]
        {
            ("dumb-increment-protocol", "all-plugins", "available"),
            ("lws-mirror-protocol", "all-plugins", "available"),
        }));

        Directory.Delete(Path.Combine(plugins, "mirror"), recursive: true);
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(server, "lws-mirror-protocol") == HttpStatusCode.BadRequest);
        Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().Protocols.Select(p => p.Name), Is.EqualTo(new[] { "dumb-increment-protocol" }));

        // The other plugin's session never noticed.
        var before = int.Parse(await counter.ReceiveTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await counter.ReceiveTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(before + 1));
        Assert.That(counter.Socket.State, Is.EqualTo(WebSocketState.Open));
    }

    [Test]
    public async Task AListedVhostServesExactlyItsList_AWildcardEntryAddsEveryOtherPlugin()
    {
        using var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment").CopyFrom(LoopbackServer.BundledPluginsPath, "mirror");
        var listed = LoopbackServer.Vhost("listed", "lws-mirror-protocol");
        var wildcard = new VhostOptions
        {
            Name = "wildcard",
            Port = 0,
            Protocols = [new("lws-mirror-protocol", System.Text.Json.JsonDocument.Parse("""{ "maxInstances": 1 }""").RootElement), new(ProtocolSelection.AllPlugins)],
        };
        await using var server = await LoopbackServer.StartAsync(folder.Path, listed, wildcard);

        Assert.That(await HandshakeAsync(server, "dumb-increment-protocol", "listed"), Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await HandshakeAsync(server, "dumb-increment-protocol", "wildcard"), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
        var protocols = server.Context.Status.GetSnapshot().Vhosts.Single(v => v.Name == "wildcard").Protocols;
        Assert.That(protocols.Select(p => (p.Name, p.SelectedBy)), Is.EqualTo(new[] { ("lws-mirror-protocol", "list"), ("dumb-increment-protocol", "all-plugins") }));

        // The listed entry's options apply: one mirror instance only on this vhost.
        await using var first = await WsClient.ConnectAsync(server.WebSocketUri("wildcard", "/?mirror=a"), "lws-mirror-protocol");
        await using var second = await WsClient.ConnectAsync(server.WebSocketUri("wildcard", "/?mirror=b"), "lws-mirror-protocol");
        var closed = await second.ReceiveCloseAsync();
        Assert.That(closed.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task ManifestOptionsThatDoNotBind_FailTheNewGenerationNamingFileKeyAndValue_ThePreviousStaysActive_AndRestoringItChangesNothing()
    {
        using var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "mirror");
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = folder.Path, WatchPlugins = false, Vhosts = [new VhostOptions { Name = "localhost", Port = 0 }] }, TimeProvider.System);
        var directory = Path.Combine(folder.Path, "mirror");
        var manifest = Path.Combine(directory, "mirror.json");
        var good = File.ReadAllBytes(manifest);

        File.WriteAllText(manifest, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(manifest), "\"maxInstances\": *[0-9]+", "\"maxInstances\": \"lots\""));
        var change = await server.Context.ReloadPluginAsync(directory);

        Assert.That(change?.Next?.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(change!.Next!.Error, Is.EqualTo($"{manifest}: protocols[0].options.maxInstances: must be a whole number from -2147483648 to 2147483647, was \"lots\"."));
        var generations = server.Context.Status.GetSnapshot().Plugins.Single().Generations;
        Assert.That(generations.Select(g => (g.Number, g.State)), Is.EqualTo(new[] { (1, "active"), (2, "failed") }));
        Assert.That(server.Logs.Entries.Select(e => e.Message), Has.Some.Contains("Plugin mirror failed to load: " + change.Next.Error));
        Assert.That(await HandshakeAsync(server, "lws-mirror-protocol"), Is.EqualTo(HttpStatusCode.SwitchingProtocols), "generation 1 keeps serving");

        File.WriteAllBytes(manifest, good);
        Assert.That(await server.Context.ReloadPluginAsync(directory), Is.Null, "the active generation's files again: nothing new to load");
        Assert.That(server.Context.Catalog.Plugins.Single().Generations, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AHalfWrittenAssembly_IsNeverLoaded_TheWholeBuildLoadsOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var folder = new PluginFolder();
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = folder.Path, Vhosts = [new VhostOptions { Name = "localhost", Port = 0 }] }, time);
        var watcher = server.Context.Watcher!;
        var source = Path.Combine(LoopbackServer.BundledPluginsPath, "dumb-increment");
        var target = Path.Combine(folder.Path, "dumb-increment");
        var assembly = Directory.GetFiles(source, "*.dll").Single();
        var bytes = File.ReadAllBytes(assembly);

        // Everything but the assembly, then half of it: what a reader sees while a build is still copying.
        var seen = watcher.ObservedChanges;
        foreach (var file in Directory.GetFiles(source).Where(f => f != assembly))
        {
            Directory.CreateDirectory(target);
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        File.WriteAllBytes(Path.Combine(target, Path.GetFileName(assembly)), bytes[..(bytes.Length / 2)]);
        await Eventually.WaitUntilAsync(() => watcher.ObservedChanges > seen);
        for (var i = 0; i < 10; i++)
        {
            // Within the grace for incomplete folders, however often the watcher looks: not loaded.
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.That(server.Context.Catalog.Plugins, Is.Empty, "a half-written build is never loaded, not even as a failure");
        Assert.That(watcher.PendingReloads, Is.EqualTo(1));

        seen = watcher.ObservedChanges;
        File.WriteAllBytes(Path.Combine(target, Path.GetFileName(assembly)), bytes);
        await Eventually.WaitUntilAsync(() => watcher.ObservedChanges > seen);
        await Eventually.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            return server.Context.Catalog.Plugins.SingleOrDefault()?.Active is not null;
        });

        var generations = server.Context.Catalog.Plugins.Single().Generations;
        Assert.That(generations.Select(g => (g.Number, g.State)), Is.EqualTo(new[] { (1, PluginGenerationState.Active) }));
    }

    [Test]
    public async Task APluginsFolderDeletedAndRecreated_RemovesItsPluginsThenServesThemAgain()
    {
        using var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = folder.Path, Vhosts = [new VhostOptions { Name = "localhost", Port = 0 }] }, TimeProvider.System);
        Assert.That(await HandshakeAsync(server, "dumb-increment-protocol"), Is.EqualTo(HttpStatusCode.SwitchingProtocols));

        Directory.Delete(folder.Path, recursive: true);
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(server, "dumb-increment-protocol") == HttpStatusCode.BadRequest);
        await Eventually.WaitUntilAsync(() => !server.Context.Watcher!.WatchesFolder);

        PluginFolder.CopyTree(Path.Combine(LoopbackServer.BundledPluginsPath, "dumb-increment"), Path.Combine(folder.Path, "dumb-increment"));
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(server, "dumb-increment-protocol") == HttpStatusCode.SwitchingProtocols);
        Assert.That(server.Context.Catalog.Plugins.Single().Active?.Number, Is.EqualTo(2));
    }

    [Test]
    public async Task TheServerExecutableWithOnlyANewPluginsFolder_ServesEachBundledPluginCopiedIn_AndRefusesARemovedOne()
    {
        // The user's words: `lws-server --plugins /some/new/dir`, no config; then copy the bundled plugin folders in.
        var plugins = Path.Combine(_root, "some", "new", "dir");
        await using var server = await ServerProcess.StartAsync("-p", "0", "--plugins", plugins);
        var uri = new Uri($"ws://{server.EndPoint}/");
        Assert.That(await HandshakeAsync(uri, "lws-mirror-protocol"), Is.EqualTo(HttpStatusCode.BadRequest));

        foreach (var id in new[] { "dumb-increment", "mirror", "server-status" })
        {
            PluginFolder.CopyTree(Path.Combine(LoopbackServer.BundledPluginsPath, id), Path.Combine(plugins, id));
        }

        foreach (var protocol in new[] { "dumb-increment-protocol", "lws-mirror-protocol", "lws-status", "lws-server-status" })
        {
            await Eventually.WaitUntilAsync(async () => await HandshakeAsync(uri, protocol) == HttpStatusCode.SwitchingProtocols);
        }

        await using var mirror = await WsClient.ConnectAsync(uri, "lws-mirror-protocol");
        await mirror.SendTextAsync("c #000000 1 2 3 4;");
        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("c #000000 1 2 3 4;"));

        Directory.Delete(Path.Combine(plugins, "dumb-increment"), recursive: true);
        await Eventually.WaitUntilAsync(async () => await HandshakeAsync(uri, "dumb-increment-protocol") == HttpStatusCode.BadRequest);
        await mirror.SendTextAsync("d #000000 1 2 3 4;");
        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("d #000000 1 2 3 4;"), "another plugin's session carries on");
        Assert.That(server.Output, Does.Contain($"Plugins folder {plugins} does not exist; watching {_root} for it"));
    }

    private static Task<HttpStatusCode?> HandshakeAsync(LoopbackServer server, string protocol, string vhost = "localhost")
        => HandshakeAsync(server.WebSocketUri(vhost), protocol);

    private static async Task<HttpStatusCode?> HandshakeAsync(Uri uri, string protocol)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(protocol);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }
}
