using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Server.Configuration;
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
    public async Task ChangedProtocolOptions_ChangeTheVhostInPlace_ItsSessionsGoOnAtTheNewInterval_AndOthersNeverNotice()
    {
        Write("a.json", Vhost("alpha", 200));
        Write("b.json", Vhost("beta", 50));
        await _live.LoadAsync(CancellationToken.None);
        var endPoint = _server.EndPoint("alpha");
        await using var onAlpha = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        await using var onBeta = await WsClient.ConnectAsync(_server.WebSocketUri("beta"), "dumb-increment-protocol");
        Assert.That(await onAlpha.ReceiveTextAsync(), Is.EqualTo("0"));
        await onBeta.ReceiveTextAsync();

        Write("a.json", Vhost("alpha", 10));
        await _live.ReloadAsync(CancellationToken.None);

        // The same session counts on without a gap or a repeat, now every 10 ms: 30 numbers well within a second.
        var received = new List<int>();
        var started = Stopwatch.GetTimestamp();
        while (received.Count < 30)
        {
            received.Add(int.Parse(await onAlpha.ReceiveTextAsync(), CultureInfo.InvariantCulture));
        }

        Assert.That(received, Is.EqualTo(Enumerable.Range(received[0], 30)), "the count went on, no gap, no repeat");
        Assert.That(received[0], Is.LessThanOrEqualTo(3), "the session is the one opened before the change");
        Assert.That(Stopwatch.GetElapsedTime(started), Is.LessThan(TimeSpan.FromSeconds(3)), "the new interval applies to the kept session");
        Assert.That(_server.EndPoint("alpha"), Is.EqualTo(endPoint), "changed in place, not re-created");
        var before = int.Parse(await onBeta.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await onBeta.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1), "beta never noticed");
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 501 && e.Message.Contains("changed in place vhost alpha", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(_server.Logs.Entries.Single(e => e.EventId.Id == 211).Message, Does.Contain("alpha").And.Contain("1 session(s) kept").And.Contain("protocol options (dumb-increment-protocol)"));
        Assert.That(_server.Logs.Entries.Any(e => e.EventId.Id == 501 && e.Message.Contains("vhost beta", StringComparison.Ordinal) && !e.Message.Contains("created", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task ChangedMounts_AreServedAtOnce_AndTheOpenSessionsStay()
    {
        var site = Directory.CreateDirectory(Path.Combine(_confD, "..", Path.GetFileName(_confD) + "-site")).FullName;
        try
        {
            File.WriteAllText(Path.Combine(site, "page.html"), "<p>new mount</p>");
            Write("a.json", Vhost("alpha", 50));
            await _live.LoadAsync(CancellationToken.None);
            await using var session = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
            await session.ReceiveTextAsync();
            using var http = new HttpClient();
            Assert.That((await http.GetAsync(_server.HttpUri("alpha", "/site/page.html"))).StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound));

            Write("a.json", $$"""
                { "name": "alpha", "address": "127.0.0.1", "port": 0, "protocols": { "dumb-increment-protocol": { "intervalMs": 50 } },
                  "mounts": [ { "mountPoint": "/site", "origin": "file://{{site}}" } ] }
                """);
            await _live.ReloadAsync(CancellationToken.None);

            var response = await http.GetAsync(_server.HttpUri("alpha", "/site/page.html"));
            Assert.That(response.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("<p>new mount</p>"));
            var before = int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture);
            Assert.That(int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1), "the session was kept");
            Assert.That(_server.Logs.Entries.Single(e => e.EventId.Id == 211).Message, Does.Contain("mounts"));
        }
        finally
        {
            Directory.Delete(site, recursive: true);
        }
    }

    [Test]
    public async Task EditThatTheEngineRefuses_KeepsTheOldVhostServing_AndNamesTheVhostAndKey()
    {
        Write("a.json", Vhost("alpha", 50));
        await _live.LoadAsync(CancellationToken.None);
        var endPoint = _server.EndPoint("alpha");
        await using var session = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        await session.ReceiveTextAsync();

        // Valid JSON and a valid vhost, but the plugin refuses the option: only creating the new instance finds out.
        Write("a.json", Vhost("alpha", 0));
        await _live.ReloadAsync(CancellationToken.None);

        var rejection = _server.Logs.Entries.Single(e => e.EventId.Id == 502).Message;
        Assert.That(rejection, Does.Contain("a.json").And.Contain("vhost 'alpha'").And.Contain("intervalMs must be between 1 and 60000, was 0"));
        Assert.That(_server.EndPoint("alpha"), Is.EqualTo(endPoint));
        var before = int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1), "the old vhost serves on");
        await using var fresh = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        Assert.That(await fresh.ReceiveTextAsync(), Is.EqualTo("0"), "and takes new sessions with its old options");
    }

    [Test]
    public async Task ChangedAddress_RecreatesTheVhost_NewOneFirst_AndAFailingOneLeavesTheOldServing()
    {
        Write("a.json", Vhost("alpha", 50));
        await _live.LoadAsync(CancellationToken.None);
        await using var session = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        await session.ReceiveTextAsync();

        // An address whose port is taken: the new vhost cannot listen, so the old one must keep serving.
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.0.2"), 0);
        squatter.Start();
        var taken = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;
        Write("a.json", Vhost("alpha", 50).Replace("\"address\": \"127.0.0.1\", \"port\": 0", $"\"address\": \"127.0.0.2\", \"port\": {taken}", StringComparison.Ordinal));
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.Logs.Entries.Single(e => e.EventId.Id == 502).Message, Does.Contain("vhost 'alpha'").And.Contain("address already in use"));
        Assert.That(_server.EndPoint("alpha").Address.ToString(), Is.EqualTo("127.0.0.1"));
        var before = int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await session.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1), "the old vhost serves on");

        Write("a.json", Vhost("alpha", 50).Replace("127.0.0.1", "127.0.0.2", StringComparison.Ordinal));
        await _live.ReloadAsync(CancellationToken.None);

        Assert.That(_server.EndPoint("alpha").Address.ToString(), Is.EqualTo("127.0.0.2"));
        Assert.That((await session.ReceiveCloseAsync()).CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable), "a new endpoint is a new vhost");
        await using var fresh = await WsClient.ConnectAsync(_server.WebSocketUri("alpha"), "dumb-increment-protocol");
        Assert.That(await fresh.ReceiveTextAsync(), Is.EqualTo("0"));
        Assert.That(_server.Logs.Entries.Count(e => e.EventId.Id == 212), Is.EqualTo(1));
        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "alpha" }));
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
