using System.Net.Sockets;
using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>Unix domain socket listeners (lws: <c>unix-socket</c>, the test server's <c>-U</c>), reached with real curl and WebSockets.</summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UnixSocketTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("lws-unix-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task ServerWithU_ServesCurlAndAWebSocket_AndRemovesTheSocketFileOnStop()
    {
        var path = Path.Combine(_folder, "lws.sock");
        await using var server = await ServerProcess.StartUntilAsync("Listening on unix:" + path, "-U", path);

        var page = await Command.RunCheckedAsync("curl", "-sS", "--max-time", "10", "--unix-socket", path, "http://localhost/");
        Assert.That(page, Does.Contain("LwsPlugins demo"));

        await using (var counter = await WsClient.ConnectUnixAsync(path, new Uri("ws://localhost/"), "dumb-increment-protocol"))
        {
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("1"));
        }

        await using (var mirror = await WsClient.ConnectUnixAsync(path, new Uri("ws://localhost/?mirror=u"), "lws-mirror-protocol"))
        {
            await mirror.SendTextAsync("c #00ff00 1 2 3;");
            Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("c #00ff00 1 2 3;"));
        }

        Assert.That(File.Exists(path), Is.True);
        await server.SignalAsync("TERM");
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await server.Process.WaitForExitAsync(exited.Token);
        Assert.That(File.Exists(path), Is.False, "the socket file is removed on stop");
    }

    [Test]
    public async Task SocketFileOfAKilledServer_IsReplacedByTheNextStart()
    {
        var path = Path.Combine(_folder, "lws.sock");
        await using (var crashed = await ServerProcess.StartUntilAsync("Listening on unix:" + path, "-U", path))
        {
            // Disposing kills the process (SIGKILL): nothing removes its socket file.
        }

        Assert.That(File.Exists(path), Is.True, "a killed server leaves its socket file");
        await using var server = await ServerProcess.StartUntilAsync("Listening on unix:" + path, "-U", path);
        var page = await Command.RunCheckedAsync("curl", "-sS", "--max-time", "10", "--unix-socket", path, "http://localhost/");
        Assert.That(page, Does.Contain("LwsPlugins demo"));
    }

    [Test]
    public async Task SocketAnotherProcessListensOn_IsNotTaken()
    {
        var path = Path.Combine(_folder, "taken.sock");
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(path));
        other.Listen();

        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var vhost = LoopbackServer.Vhost("taken", "dumb-increment-protocol");
        vhost.UnixSocket = path;
        var refused = Assert.ThrowsAsync<LwsConfigurationException>(() => server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(refused!.Message, Does.Contain($"vhost 'taken': unixSocket: another process listens on '{path}'"));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        using var accepted = await other.AcceptAsync();
        Assert.That(accepted.Connected, Is.True, "the other process still owns its socket");
    }

    [Test]
    public async Task VhostsOnOneSocket_AreToldApartByHost_AndTheFileGoesWithTheLastVhost()
    {
        var path = Path.Combine(_folder, "shared.sock");
        var vhosts = new[] { "one.test", "two.test" }.Select(name =>
        {
            var root = Directory.CreateDirectory(Path.Combine(_folder, name)).FullName;
            File.WriteAllText(Path.Combine(root, "index.html"), $"<p>{name}</p>");
            var vhost = LoopbackServer.Vhost(name, "lws-status");
            vhost.UnixSocket = path;
            vhost.UnixSocketMode = "0660";
            vhost.AccessLog = Path.Combine(_folder, name + ".log");
            vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = root }];
            return vhost;
        }).ToArray();
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0, WatchPlugins = false, Vhosts = vhosts }, TimeProvider.System);

        Assert.That(await CurlAsync(path, "http://one.test/"), Does.Contain("<p>one.test</p>"));
        Assert.That(await CurlAsync(path, "http://two.test/"), Does.Contain("<p>two.test</p>"));
        Assert.That(await CurlAsync(path, "http://localhost/"), Does.Contain("<p>one.test</p>"), "an unknown Host goes to the socket's first vhost");
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
        Assert.That(server.Context.GetListenAddress("two.test"), Is.EqualTo("unix:" + path));

        await using (var status = await WsClient.ConnectUnixAsync(path, new Uri("ws://two.test/"), "lws-status"))
        {
            using var document = JsonDocument.Parse(await status.ReceiveTextAsync());
            Assert.That(document.RootElement.GetProperty("conns")[0].GetProperty("peer").GetString(), Is.EqualTo("unix"));
        }

        await Eventually.WaitUntilAsync(() => File.Exists(vhosts[1].AccessLog!) && File.ReadAllText(vhosts[1].AccessLog!).Contains("\"GET / HTTP/1.1\" 101", StringComparison.Ordinal));
        Assert.That(File.ReadAllLines(vhosts[1].AccessLog!), Has.All.StartsWith("unix "));

        await server.Context.DestroyVhostAsync("one.test", CancellationToken.None);
        Assert.That(await CurlAsync(path, "http://one.test/"), Does.Contain("<p>two.test</p>"), "the socket is handed to the remaining vhost");
        await server.Context.DestroyVhostAsync("two.test", CancellationToken.None);
        await Eventually.WaitUntilAsync(() => !File.Exists(path));
    }

    [Test]
    public async Task UnixSocketOwnerAndMode_AreTheSocketFilesOwnerAndMode()
    {
        // Giving a file away (chown) needs root; the CI container runs as root, a developer's shell may not.
        if ((await Command.RunCheckedAsync("id", "-u")).Trim() != "0")
        {
            Assert.Inconclusive($"not root (user '{Environment.UserName}'): the socket file cannot be given to another user.");
        }

        var path = Path.Combine(_folder, "owned.sock");
        var vhost = LoopbackServer.Vhost("owned.test", "lws-status");
        vhost.UnixSocket = path;
        vhost.UnixSocketMode = "0660";
        vhost.UnixSocketOwner = "nobody:nogroup";
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);

        Assert.That((await Command.RunCheckedAsync("stat", "-c", "%F %U:%G %a", path)).Trim(), Is.EqualTo("socket nobody:nogroup 660"));
        Assert.That((await Command.RunCheckedAsync("stat", "-c", "%u:%g", path)).Trim(), Is.EqualTo("65534:65534"), "Debian's nobody and nogroup");

        // A user alone keeps the group the file was created with (root's here).
        var userOnly = LoopbackServer.Vhost("user-only.test", "lws-status");
        userOnly.UnixSocket = Path.Combine(_folder, "user-only.sock");
        userOnly.UnixSocketOwner = "www-data";
        await server.Context.CreateVhostAsync(userOnly, CancellationToken.None);
        Assert.That((await Command.RunCheckedAsync("stat", "-c", "%U:%G", userOnly.UnixSocket)).Trim(), Is.EqualTo("www-data:root"));
    }

    [TestCase("no-such-user-lws:nogroup", "there is no user 'no-such-user-lws' on this machine (passwd database).")]
    [TestCase("nobody:no-such-group-lws", "there is no group 'no-such-group-lws' on this machine (group database).")]
    [TestCase(":no-such-group-lws", "there is no group 'no-such-group-lws' on this machine (group database).")]
    public async Task UnknownUnixSocketOwner_IsRefusedNamingTheVhostAndTheKey_AndLeavesNoSocketFile(string owner, string reason)
    {
        var path = Path.Combine(_folder, "refused.sock");
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var vhost = LoopbackServer.Vhost("refused.test", "lws-status");
        vhost.UnixSocket = path;
        vhost.UnixSocketOwner = owner;

        var refused = Assert.ThrowsAsync<LwsConfigurationException>(() => server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(refused!.Message, Is.EqualTo($"vhost 'refused.test': unixSocketOwner: {reason}"));
        Assert.That(File.Exists(path), Is.False, "the socket bound before the owner was looked up is removed");
        Assert.That(server.Context.VhostNames, Does.Not.Contain("refused.test"));
    }

    private static Task<string> CurlAsync(string socket, string url)
        => Command.RunCheckedAsync("curl", "-sS", "--max-time", "10", "--unix-socket", socket, url);
}
