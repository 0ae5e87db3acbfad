using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Server.Configuration;
using LwsPlugins.Server.Lwsws;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>lwsws configuration folders (<c>--lwsws-config DIR</c>) read as they are, from example files in lwsws's documented format.</summary>
[TestFixture]
public sealed class LwswsConfigurationTests
{
    private static readonly string s_examples = Path.Combine(AppContext.BaseDirectory, "lwsws");
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("lws-lwsws-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void ExampleFiles_TranslateToTheirJsonEquivalent_AndNameEveryKeyWithoutOne()
    {
        var conf = Path.Combine(s_examples, "example", "conf");
        var files = new[] { conf }.Concat(Directory.GetFiles(Path.Combine(s_examples, "example", "conf.d")).Order(StringComparer.Ordinal)).ToList();
        var translated = files.Select(f => LwswsTranslator.Parse(File.ReadAllText(f), f)).ToList();
        var equivalent = LwsServerConfigFile.Parse(File.ReadAllText(Path.Combine(s_examples, "equivalent.json")), "equivalent.json").Vhosts;

        Assert.That(translated.SelectMany(t => t.Vhosts).Select(Canonical), Is.EqualTo(equivalent.Select(Canonical)));
        var localhost = Path.Combine(s_examples, "example", "conf.d", "localhost");
        Assert.That(translated.SelectMany(t => t.Unsupported), Is.EquivalentTo(new[]
        {
            $"{conf}: global.server-string",
            $"{conf}: global.ws-pingpong-secs",
            $"{localhost}: vhosts[0].sts",
            $"{localhost}: vhosts[0].ws-protocols.lws-mirror-protocol.default",
        }));
    }

    [Test]
    public void GlobalAndUnixSocketKeys_MapOntoTheServerAndVhostOptions()
    {
        var file = LwswsTranslator.Parse(
            """
            { "global": { "uid": "48", "gid": "apache", "plugin-dir": "/usr/share/lwsws/plugins" },
              "vhosts": [{ "name": "proxied", "interface": "/run/lwsws.sock", "unix-socket": "1", "unix-socket-perms": "apache:apache",
                           "host-ssl-cert": "c.pem", "host-ssl-key": "k.pem", "host-ssl-ca": "ca.pem",
                           "mounts": [{ "mountpoint": "/cb", "origin": "callback://lws-status", "interpret": { ".x": "y" } }] }] }
            """,
            "conf");

        Assert.That(file.Global, Is.EqualTo(new LwswsGlobal("48", "apache", "/usr/share/lwsws/plugins")));
        var vhost = file.Vhosts.Single();
        Assert.That((vhost.UnixSocket, vhost.UnixSocketOwner), Is.EqualTo(("/run/lwsws.sock", "apache:apache")));
        Assert.That((vhost.Tls!.Certificate, vhost.Tls.Key, vhost.Tls.Ca, vhost.Tls.ClientCertificate), Is.EqualTo(("c.pem", "k.pem", "ca.pem", TlsClientCertificateMode.Optional)));
        Assert.That(vhost.Mounts.Single().CallbackProtocol, Is.EqualTo("lws-status"));
        Assert.That(file.Unsupported, Is.EqualTo(new[] { "conf: vhosts[0].mounts[0].interpret" }));
    }

    [Test]
    public void KeepaliveTimeout_IsTheVhostsKeepAliveTimeoutInMilliseconds()
    {
        var file = LwswsTranslator.Parse(
            """{ "vhosts": [{ "name": "a", "keepalive-timeout": "5" }, { "name": "b", "keepalive-timeout": 7 }, { "name": "c" }] }""", "conf.d/k");

        Assert.That(file.Vhosts.Select(v => v.KeepAliveTimeoutMs), Is.EqualTo(new[] { 5000, 7000, 0 }));
        Assert.That(file.Unsupported, Is.Empty);
        var refused = Assert.Throws<LwsConfigurationException>(() => LwswsTranslator.Parse("""{ "vhosts": [{ "name": "a", "keepalive-timeout": "5s" }] }""", "conf.d/k"));
        Assert.That(refused!.Message, Is.EqualTo("conf.d/k: vhosts[0].keepalive-timeout: '5s' is not a whole number."));
    }

    [Test]
    public void NotJson_IsRefusedNamingTheFileAndLine()
    {
        var refused = Assert.Throws<LwsConfigurationException>(() => LwswsTranslator.Parse("{\n \"vhosts\": [ { \"name\": } ]\n}", "conf.d/broken"));

        Assert.That(refused!.Message, Does.StartWith("conf.d/broken, line 2: not valid lwsws JSON: "));
    }

    [Test]
    public async Task ExampleFolder_StartsTheSameVhostsAsItsJsonEquivalent()
    {
        var lwsws = CopyExample(Path.Combine(_folder, "lwsws"));
        var json = Path.Combine(_folder, "equivalent.json");
        await File.WriteAllTextAsync(json, Localise(await File.ReadAllTextAsync(Path.Combine(s_examples, "equivalent.json")), "json.sock"));

        var fromLwsws = await StartAsync(Path.Combine(lwsws, "conf"), Path.Combine(lwsws, "conf.d"), LwswsDirectory.ParseVhosts);
        var fromJson = await StartAsync(json, null, null);
        await using (fromLwsws.Server)
        await using (fromLwsws.Live)
        await using (fromJson.Server)
        await using (fromJson.Live)
        {
            Assert.That(fromLwsws.Server.Context.VhostNames, Is.EqualTo(fromJson.Server.Context.VhostNames));
            Assert.That(fromLwsws.Server.Context.VhostNames, Is.EqualTo(new[] { "localhost", "status.local" }));
            foreach (var server in new[] { fromLwsws.Server, fromJson.Server })
            {
                await using var counter = await WsClient.ConnectAsync(server.WebSocketUri("localhost"), "dumb-increment-protocol");
                Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
                using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = WsClient.DefaultTimeout };
                using var moved = await http.GetAsync(server.HttpUri("localhost", "/moved"));
                Assert.That(moved.Headers.Location, Is.EqualTo(new Uri("https://libwebsockets.org/")));
                using var page = await http.GetAsync(server.HttpUri("localhost", "/"));
                Assert.That(page.Headers.NonValidated["Cache-Control"].ToString(), Is.EqualTo("private, must-revalidate, max-age=60"));
            }

            Assert.That(await CurlAsync(Path.Combine(_folder, "lwsws.sock"), "http://status.local/"), Does.Contain("LwsPlugins demo"));
            Assert.That(await CurlAsync(Path.Combine(_folder, "json.sock"), "http://status.local/"), Does.Contain("LwsPlugins demo"));
        }
    }

    [Test]
    public async Task ServerWithLwswsConfig_NamesUnsupportedKeysInOneMessage_AndAppliesAConfDEditLive()
    {
        var lwsws = CopyExample(Path.Combine(_folder, "lwsws"));
        await using var server = await ServerProcess.StartAsync("--lwsws-config", lwsws);

        using (var http = new HttpClient { Timeout = WsClient.DefaultTimeout })
        {
            Assert.That(await http.GetStringAsync($"http://{server.EndPoint}/"), Does.Contain("LwsPlugins demo"));
        }

        var message = server.Output.Split('\n').Where(l => l.Contains("have no equivalent here", StringComparison.Ordinal)).ToList();
        Assert.That(message, Has.Count.EqualTo(1));
        Assert.That(message[0], Does.Contain("4 keys").And.Contain("global.server-string").And.Contain("vhosts[0].sts").And.Contain("lws-mirror-protocol.default"));
        Assert.That(server.Output, Does.Not.Contain("of its keys have no equivalent"), "at start the one message names every file's keys");

        // A file added while the server runs names its own unsupported keys; its vhost is served all the same.
        var extra = Path.Combine(_folder, "extra.sock");
        var extraFile = Path.Combine(lwsws, "conf.d", "extra");
        await File.WriteAllTextAsync(
            extraFile,
            $$"""{ "vhosts": [{ "name": "extra.local", "interface": "{{extra}}", "unix-socket": "1", "sts": "on", "mounts": [{ "mountpoint": "/", "origin": "file://www" }] }] }""");
        await server.WaitForOutputAsync("Listening on unix:" + extra);
        Assert.That(await CurlAsync(extra, "http://extra.local/"), Does.Contain("LwsPlugins demo"));
        await server.WaitForOutputAsync($"{extraFile} changed: 1 of its keys have no equivalent here and are not applied: vhosts[0].sts");
        Assert.That(server.Output.Split('\n').Count(l => l.Contains("of its keys have no equivalent", StringComparison.Ordinal)), Is.EqualTo(1), "only the new file is named, once");

        File.Delete(Path.Combine(lwsws, "conf.d", "extra"));
        await Eventually.WaitUntilAsync(() => !File.Exists(extra), TimeSpan.FromSeconds(20));
    }

    private static async Task<(LoopbackServer Server, LiveConfiguration Live)> StartAsync(string file, string? confD, Func<string, string, IReadOnlyList<VhostOptions>>? parse)
    {
        var server = await LoopbackServer.StartAsync(new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0, WatchPlugins = false }, TimeProvider.System);
        var live = new LiveConfiguration(server.Context, file, confD, TimeProvider.System, server.LoggerFactory, TimeSpan.FromMilliseconds(100), parse);
        await live.LoadAsync(CancellationToken.None);
        return (server, live);
    }

    /// <summary>The example folder with its fixed port made 0 and its socket in the test's folder.</summary>
    private string CopyExample(string target)
    {
        Directory.CreateDirectory(Path.Combine(target, "conf.d"));
        foreach (var file in Directory.GetFiles(Path.Combine(s_examples, "example"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(s_examples, "example"), file);
            File.WriteAllText(Path.Combine(target, relative), Localise(File.ReadAllText(file), "lwsws.sock"));
        }

        return target;
    }

    private string Localise(string text, string socket)
        => text.Replace("\"port\": \"7681\"", "\"port\": \"0\"", StringComparison.Ordinal)
            .Replace("\"port\": 7681", "\"port\": 0", StringComparison.Ordinal)
            .Replace("lwsws-status.sock", Path.Combine(_folder, socket), StringComparison.Ordinal);

    private static string Canonical(VhostOptions vhost) => JsonSerializer.Serialize(vhost);

    private static Task<string> CurlAsync(string socket, string url)
        => Command.RunCheckedAsync("curl", "-sS", "--max-time", "10", "--unix-socket", socket, url);
}
