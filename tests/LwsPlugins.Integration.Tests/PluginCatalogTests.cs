using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class PluginCatalogTests
{
    private PluginFolder _plugins = null!;
    private LoopbackServer _server = null!;
    private string _brokenManifest = null!;
    private string _missingAssemblyManifest = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _plugins = new PluginFolder()
            .CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment")
            .CopyFrom(LoopbackServer.TestPluginsPath, "no-export");
        _brokenManifest = _plugins.WriteFile("broken-json", "broken-json.json", "{\n  \"id\": \"broken-json\",\n  \"assembly\": \n}");
        _missingAssemblyManifest = _plugins.WriteFile(
            "missing-assembly",
            "missing-assembly.json",
            """{ "id": "missing-assembly", "assembly": "Missing.dll", "version": "1.0.0", "sdk": "[1.0.0, 2.0.0)", "protocols": [ { "name": "missing-protocol" } ] }""");
        _plugins.WriteFile("no-manifest", "readme.txt", "a folder without a manifest");

        _server = await LoopbackServer.StartAsync(
            _plugins.Path,
            LoopbackServer.Vhost("catalog", "dumb-increment-protocol", "no-export-protocol", "missing-protocol"));
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        _plugins.Dispose();
    }

    [Test]
    public void BadManifest_IsReportedWithPathAndReason()
        => AssertFailed("broken-json", _brokenManifest, "not valid JSON", "line 4");

    [Test]
    public void MissingAssembly_IsReportedWithPathAndReason()
        => AssertFailed("missing-assembly", _missingAssemblyManifest, "assembly", "'Missing.dll' was not found");

    [Test]
    public void AssemblyWithNoExport_IsReportedWithPathAndReason()
        => AssertFailed("no-export", Path.Combine(_plugins.Path, "no-export", "no-export.json"), "assembly", "exports no protocol");

    [Test]
    public void FolderWithoutManifest_IsReported()
        => AssertFailed("no-manifest", Path.Combine(_plugins.Path, "no-manifest"), "no manifest", "no-manifest.json");

    [Test]
    public void HealthyPlugin_LoadsBesideTheBrokenOnes()
    {
        var plugin = _server.Context.Catalog.Plugins.Single(p => p.Id == "dumb-increment");

        Assert.That(plugin.Active, Is.Not.Null);
        Assert.That(plugin.Active!.Protocols.Keys, Is.EquivalentTo(new[] { "dumb-increment-protocol" }));
    }

    [Test]
    public async Task VhostStillServesTheHealthyProtocol()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("catalog"), "dumb-increment-protocol");

        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("0"));
    }

    [Test]
    public async Task ProtocolOfAFailedPlugin_IsRefusedWith503NamingTheReason()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("missing-protocol");
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);

        Assert.That(async () => await socket.ConnectAsync(_server.WebSocketUri("catalog"), timeout.Token), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(_server.Logs.Entries.Any(e => e.EventId.Id == 205 && e.Message.Contains("Missing.dll", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task InvalidProtocolOptions_RefuseTheVhostNamingVhostProtocolAndOption()
    {
        var vhost = LoopbackServer.Vhost("bad-options");
        vhost.Protocols = [new ProtocolSelection("dumb-increment-protocol", System.Text.Json.JsonDocument.Parse("""{ "intervalMs": 0 }""").RootElement)];

        var error = Assert.ThrowsAsync<LwsConfigurationException>(async () => await _server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("vhost 'bad-options'").And.Contain("dumb-increment-protocol").And.Contain("intervalMs"));
        Assert.That(_server.Context.VhostNames, Does.Not.Contain("bad-options"));
    }

    [Test]
    public async Task MissingMountFolder_RefusesTheVhostNamingTheKey_AndLeavesNoListener()
    {
        var listeners = _server.Context.GetDiagnostics().Listeners;
        var vhost = LoopbackServer.Vhost("bad-mount", "dumb-increment-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = Path.Combine(_plugins.Path, "no-such-folder") }];

        var error = Assert.ThrowsAsync<LwsConfigurationException>(async () => await _server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("vhost 'bad-mount'").And.Contain("mounts[0].origin").And.Contain("no-such-folder"));
        Assert.That(_server.Context.GetDiagnostics().Listeners, Is.EqualTo(listeners));
        Assert.That(_server.Context.VhostNames, Does.Not.Contain("bad-mount"));
    }

    private void AssertFailed(string pluginId, string path, params string[] reasons)
    {
        var plugin = _server.Context.Catalog.Plugins.Single(p => p.Id == pluginId);
        var generation = plugin.Generations.Single();

        Assert.That(generation.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(generation.Error, Does.Contain(path));
        foreach (var reason in reasons)
        {
            Assert.That(generation.Error, Does.Contain(reason));
        }

        Assert.That(_server.Logs.Entries.Any(e => e.EventId.Id == 101 && e.Message.Contains(path, StringComparison.Ordinal)), Is.True);
    }
}
