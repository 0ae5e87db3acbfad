using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>conf.d: one file per vhost; add, change, remove and a broken file each do what lwsws does.</summary>
[TestFixture]
public sealed class LiveConfigurationTests
{
    private string _confD = null!;
    private LoopbackServer _server = null!;
    private LiveConfiguration _live = null!;

    [SetUp]
    public async Task Start()
    {
        _confD = Path.Combine(Path.GetTempPath(), "lws-conf.d-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_confD);
        _server = await LoopbackServer.StartAsync(new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0 }, TimeProvider.System);
        _live = new LiveConfiguration(_server.Context, null, _confD, TimeProvider.System, _server.LoggerFactory, TimeSpan.FromMilliseconds(100));
    }

    [TearDown]
    public async Task Stop()
    {
        await _live.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_confD, recursive: true);
    }

    [Test]
    public async Task AddedFile_CreatesItsVhost()
    {
        await _live.LoadAsync(CancellationToken.None);
        Write("a.json", Vhost("alpha", 50));

        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "alpha" }));
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("0"));
    }

    [Test]
    public async Task ChangedFile_ReplacesOnlyItsVhost()
    {
        Write("a.json", Vhost("alpha", 50));
        Write("b.json", Vhost("beta", 50));
        await _live.LoadAsync(CancellationToken.None);
        await using var onAlpha = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        await using var onBeta = await WsClient.ConnectAsync(_server.WebSocketUri("beta"), "dumb-increment-protocol");
        await onAlpha.ReceiveTextAsync();
        await onBeta.ReceiveTextAsync();

        Write("a.json", Vhost("alpha", 20));
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That((await onAlpha.ReceiveCloseAsync()).CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        var before = int.Parse(await onBeta.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await onBeta.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1), "beta never noticed");
        Assert.That(_server.Context.VhostNames, Is.EquivalentTo(new[] { "alpha", "beta" }));
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 501 && e.Message.Contains("replaced vhost alpha", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(_server.Logs.Entries.Any(e => e.EventId.Id == 501 && e.Message.Contains("vhost beta", StringComparison.Ordinal) && !e.Message.Contains("created", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task RemovedFile_DestroysItsVhost()
    {
        Write("a.json", Vhost("alpha", 50));
        Write("b.json", Vhost("beta", 50));
        await _live.LoadAsync(CancellationToken.None);

        File.Delete(Path.Combine(_confD, "a.json"));
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "beta" }));
    }

    [Test]
    public async Task BrokenFile_IsReportedWithFileAndKey_AndTheLastGoodStateStays()
    {
        Write("b.json", Vhost("beta", 50));
        await _live.LoadAsync(CancellationToken.None);
        var endPoint = _server.EndPoint("beta");

        Write("b.json", """{ "name": "beta", "port": 99999, "protocols": [ "dumb-increment-protocol" ] }""");
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "beta" }));
        Assert.That(_server.EndPoint("beta"), Is.EqualTo(endPoint), "not replaced");
        var rejection = _server.Logs.Entries.Single(e => e.EventId.Id == 502);
        Assert.That(rejection.Message, Does.Contain(Path.Combine(_confD, "b.json")).And.Contain("vhost 'beta'").And.Contain("port"));

        Write("b.json", "# a comment, then a syntax error\n{ \"name\": ");
        await _live.ReloadAsync(CancellationToken.None);
        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "beta" }));
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 502), Is.EqualTo(2));
    }

    [Test]
    public async Task BrokenFile_IsLoggedOncePerChangeOfThatFile_NotAtEveryReload()
    {
        Write("a.json", Vhost("alpha", 50));
        await _live.LoadAsync(CancellationToken.None);
        Write("b.json", """{ "name": "beta", "port": 99999, "protocols": [ "dumb-increment-protocol" ] }""");
        await _live.ReloadAsync(CancellationToken.None);

        Write("a.json", Vhost("alpha", 20));
        await _live.ReloadAsync(CancellationToken.None);
        await _live.ReloadAsync(CancellationToken.None);
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 502), Is.EqualTo(1), "b.json did not change");

        Write("b.json", """{ "name": "beta", "port": 99998, "protocols": [ "dumb-increment-protocol" ] }""");
        await _live.ReloadAsync(CancellationToken.None);
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 502), Is.EqualTo(2), "b.json changed and is still broken");
    }

    [Test]
    public async Task RemovedFile_LogsThatItsVhostIsNoLongerConfigured()
    {
        Write("a.json", Vhost("alpha", 50));
        await _live.LoadAsync(CancellationToken.None);
        File.Delete(Path.Combine(_confD, "a.json"));
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Logs.Entries.Single(e => e.EventId.Id == 505).Message, Is.EqualTo("Configuration: destroyed vhost alpha: it is no longer in the configuration"));
    }

    [Test]
    public async Task ArrayFileWithOneBadVhost_AppliesTheGoodOnes_AndNamesTheRefusedOne()
    {
        await _live.LoadAsync(CancellationToken.None);
        Write("many.json", "[\n" + Vhost("one", 50) + ",\n{ \"name\": \"two\",\n  \"port\": \"abc\", \"protocols\": [ \"dumb-increment-protocol\" ] },\n" + Vhost("three", 50) + "\n]");

        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Context.VhostNames, Is.EquivalentTo(new[] { "one", "three" }));
        var rejection = _server.Logs.Entries.Single(e => e.EventId.Id == 502).Message;
        Assert.That(rejection, Does.Contain("vhost 'two': port: must be a whole number from 0 to 65535, was \"abc\"").And.Contain("many.json, line 5").And.Contain("other vhosts are applied"));
    }

    [Test]
    public async Task BrokenFileAtStart_FailsTheLoadNamingTheFile()
    {
        Write("c.json", """{ "name": "gamma", "prot0cols": [] }""");

        var error = Assert.ThrowsAsync<LwsConfigurationException>(async () => await _live.LoadAsync(CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("c.json").And.Contain("prot0cols"));
    }

    [Test]
    public async Task FileWrittenWhileWatching_IsAppliedWithoutAnyCall()
    {
        await _live.LoadAsync(CancellationToken.None);
        _live.StartWatching();

        Write("d.json", Vhost("delta", 50));
        await Eventually.WaitUntilAsync(() => _server.Context.VhostNames.Contains("delta"));
        File.Delete(Path.Combine(_confD, "d.json"));
        await Eventually.WaitUntilAsync(() => _server.Context.VhostNames.Count == 0);
    }

    private void Write(string file, string json)
    {
        // Write then rename, as editors and deploy tools do, so a reload never reads half a file.
        var temporary = Path.Combine(_confD, "." + file + ".tmp");
        File.WriteAllText(temporary, json);
        File.Move(temporary, Path.Combine(_confD, file), overwrite: true);
    }

    private static string Vhost(string name, int intervalMs)
        => $$"""
            # {{name}}, managed by the test
            { "name": "{{name}}", "address": "127.0.0.1", "port": 0, "protocols": { "dumb-increment-protocol": { "intervalMs": {{intervalMs}} } } }
            """;
}
