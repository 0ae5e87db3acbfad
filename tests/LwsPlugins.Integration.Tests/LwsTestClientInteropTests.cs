using System.Diagnostics;
using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>lws's own test client (Debian package libwebsockets-test-server, installed by the test command) against our server.</summary>
[TestFixture]
public sealed partial class LwsTestClientInteropTests
{
    private const string ClientPath = "/usr/bin/libwebsockets-test-client";
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        Assert.That(File.Exists(ClientPath), Is.True, $"{ClientPath} is missing: the test command installs the Debian package libwebsockets-test-server.");
        _server = await LoopbackServer.StartAsync(
            LoopbackServer.BundledPluginsPath,
            LoopbackServer.Vhost("localhost", "dumb-increment-protocol", "lws-mirror-protocol", "lws-status"));
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task TestClient_RunsItsDumbIncrementAndMirrorExchange()
    {
        var endPoint = _server.EndPoint("localhost");
        await using var observer = await WsClient.ConnectAsync(_server.WebSocketUri("localhost", "/?mirror=probe"), "lws-mirror-protocol");
        var circles = CountCirclesAsync(observer);

        var info = new ProcessStartInfo(ClientPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { $"ws://{endPoint}/?mirror=probe", "-O", "-d", "1039" })
        {
            info.ArgumentList.Add(argument);
        }

        using var client = Process.Start(info)!;
        var stdout = client.StandardOutput.ReadToEndAsync();
        var stderr = client.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            try
            {
                await client.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                client.Kill(entireProcessTree: true);
                throw;
            }
        }

        var log = await stdout + await stderr;
        TestContext.Out.WriteLine(string.Join('\n', log.Split('\n').Where(l => l.Contains(" N: ", StringComparison.Ordinal))));

        // Its exit code is 0 even on errors: judge it by its log, and by what it drew through the mirror.
        Assert.That(log, Does.Contain("lws_http_client_http_response 101"));
        Assert.That(log, Does.Contain("mirror: LWS_CALLBACK_CLIENT_ESTABLISHED"));
        Assert.That(log, Does.Contain("closing mirror session"));
        var counterValues = CounterLine().Matches(log).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(counterValues, Is.Not.Empty);
        Assert.That(counterValues, Is.EqualTo(Enumerable.Range(0, counterValues.Count)), "the counter must arrive as 0, 1, 2, ... without gaps");

        await observer.Socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        var (count, malformed) = await circles;
        TestContext.Out.WriteLine($"observer saw {count} circles, {malformed} malformed messages");
        Assert.That(count, Is.GreaterThan(1000));
        Assert.That(malformed, Is.Zero);
    }

    private static async Task<(int Count, int Malformed)> CountCirclesAsync(WsClient observer)
    {
        int count = 0, malformed = 0;
        while (true)
        {
            var message = await observer.ReceiveAsync(TimeSpan.FromSeconds(120));
            if (message.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                return (count, malformed);
            }

            foreach (var command in message.Text.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                if (CircleCommand().IsMatch(command))
                {
                    count++;
                }
                else
                {
                    malformed++;
                }
            }
        }
    }

    [GeneratedRegex(@"rx \d+ '(\d+)'")]
    private static partial Regex CounterLine();

    [GeneratedRegex(@"^c #[0-9a-fA-F]{6} -?\d+ -?\d+ \d+$")]
    private static partial Regex CircleCommand();
}
