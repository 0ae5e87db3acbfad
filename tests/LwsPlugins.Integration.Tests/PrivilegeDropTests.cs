using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// -u/-g (lws: uid/gid): the server process binds its start-up sockets as root, then every thread of it runs as the
/// unprivileged user while those sockets keep serving; later vhosts that need root are refused, naming the vhost.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class PrivilegeDropTests
{
    private const string Token = "privilege-drop-test-token";

    [Test]
    public async Task DropToNobody_EveryThreadRunsAsNobody_WhileStartUpListenersKeepServing()
    {
        if (!Command.IsRoot)
        {
            Assert.Ignore("needs root: the server must start as root to bind a privileged port and drop to another user");
        }

        var (uid, gid) = await UnprivilegedAccountAsync();
        using var certificates = new TestCertificates();
        var privileged = FreePrivilegedPort();
        var config = certificates.WriteFile("server.json", $$"""
            {
              "admin": { "enabled": true, "port": 0, "token": "{{Token}}" },
              "vhosts": [
                { "name": "localhost", "address": "127.0.0.1", "port": 0, "protocols": [ "dumb-increment-protocol" ] },
                { "name": "privileged", "address": "127.0.0.1", "port": {{privileged}}, "protocols": [ "dumb-increment-protocol" ] }
              ]
            }
            """);

        await using var server = await ServerProcess.StartAsync("--config", config, "-u", "nobody", "-g", "nogroup");
        await server.WaitForOutputAsync("Privileges dropped");

        // Every thread, with all four ids (real, effective, saved, file system) of user and group.
        var threads = Directory.GetDirectories($"/proc/{server.Process.Id}/task");
        Assert.That(threads, Has.Length.GreaterThan(5), "a .NET server runs many threads");
        foreach (var thread in threads)
        {
            var status = await File.ReadAllLinesAsync(Path.Combine(thread, "status"));
            Assert.That(Ids(status, "Uid:"), Is.EqualTo(new[] { uid, uid, uid, uid }), $"{thread}: Uid");
            Assert.That(Ids(status, "Gid:"), Is.EqualTo(new[] { gid, gid, gid, gid }), $"{thread}: Gid");
            Assert.That(Ids(status, "Groups:"), Is.EqualTo(new[] { gid }), $"{thread}: supplementary groups");
        }

        // The sockets bound as root keep serving: a WebSocket session on the privileged port and on the other one.
        await using (var counter = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{privileged}/"), "dumb-increment-protocol"))
        {
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("1"));
        }

        await using (var counter = await WsClient.ConnectAsync(new Uri($"ws://{server.EndPoint}/"), "dumb-increment-protocol"))
        {
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
        }

        using var admin = AdminClient(server);

        // A later vhost may share the privileged listener that is already open, but not open a new privileged port.
        var shared = await CreateAsync(admin, $$"""{ "name": "shared", "port": {{privileged}}, "protocols": [ "dumb-increment-protocol" ] }""");
        Assert.That(shared.Status, Is.EqualTo(HttpStatusCode.Created), shared.Body);

        var another = FreePrivilegedPort();
        var refused = await CreateAsync(admin, $$"""{ "name": "late", "port": {{another}}, "protocols": [ "dumb-increment-protocol" ] }""");
        Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(refused.Body, Does.Contain($"vhost 'late': port: {another} is a privileged port").And.Contain("needs root").And.Contain("'nobody'"));

        // Files only root may read cannot be opened any more, and the refusal names the vhost and the file.
        var (certificate, key) = certificates.WritePem(certificates.ServerCertificate("late.test"), "late");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var unreadable = await CreateAsync(admin, $$"""
            { "name": "late.test", "port": 0, "protocols": [], "tls": { "certificate": "{{certificate}}", "key": "{{key}}" } }
            """);
        Assert.That(unreadable.Status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(unreadable.Body, Does.Contain($"vhost 'late.test': tls.key: cannot read '{key}': permission denied"));
    }

    [Test]
    public async Task NotStartedAsRoot_DropFailsFatallyNamingTheCall()
    {
        if (!Command.IsRoot)
        {
            Assert.Ignore("needs root to start the server as another user (setpriv)");
        }

        var (uid, gid) = await UnprivilegedAccountAsync();
        var (exitCode, output) = await ServerProcess.RunToExitAsync(
            ["setpriv", $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--"], "-p", "0", "-u", "root");

        Assert.That(exitCode, Is.EqualTo(3), output);
        Assert.That(output, Does.Contain("cannot drop privileges to user 'root' (uid 0) and group 'root' (gid 0): setgroups([0]) failed").And.Contain("EPERM"));
    }

    [Test]
    public async Task UnknownUserOrGroup_ExitsWith2NamingIt()
    {
        var (exitCode, output) = await ServerProcess.RunToExitAsync("-p", "0", "-u", "no-such-user-lws");
        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("user: there is no user 'no-such-user-lws'"));

        (exitCode, output) = await ServerProcess.RunToExitAsync("-p", "0", "-u", "nobody", "-g", "no-such-group-lws");
        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("group: there is no group 'no-such-group-lws'"));
    }

    private static async Task<(string Uid, string Gid)> UnprivilegedAccountAsync()
    {
        var (userExit, user) = await Command.RunAsync("getent", "passwd", "nobody");
        var (groupExit, group) = await Command.RunAsync("getent", "group", "nogroup");
        if (userExit != 0 || groupExit != 0)
        {
            Assert.Ignore("needs the user 'nobody' and the group 'nogroup' (getent found none)");
        }

        return (user.Split(':')[2], group.Split(':')[2]);
    }

    private static string[] Ids(string[] status, string field)
        => status.Single(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A port below 1024 free on 127.0.0.1 now, found by trying (from a random start, so parallel runs differ).</summary>
    private static int FreePrivilegedPort()
    {
        var start = Random.Shared.Next(600, 1000);
        for (var i = 0; i < 400; i++)
        {
            var port = 600 + ((start - 600 + i) % 400);
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port between 600 and 999");
    }

    private static HttpClient AdminClient(ServerProcess server)
    {
        var endPoint = AdminPattern().Match(server.Output).Groups[1].Value;
        var client = new HttpClient { BaseAddress = new Uri($"http://{endPoint}/"), Timeout = WsClient.DefaultTimeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    private static async Task<(HttpStatusCode Status, string Body)> CreateAsync(HttpClient admin, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await admin.PostAsync(new Uri("vhosts", UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex(@"Admin API listening on (\S+:\d+)")]
    private static partial Regex AdminPattern();
}
