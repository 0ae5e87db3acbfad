using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// HTTP/2 flow control is per stream: a WebSocket stream its client stops reading, or whose session the server stops
/// reading (backpressure), does not stall the other streams of its connection. Node's own http2 client
/// (node/h2-flow-control.mjs) gives its connection a 64 MiB window and each stream a 16 KiB one, so a stall it sees is
/// the server's doing.
/// </summary>
[TestFixture]
public sealed class Http2FlowControlTests
{
    private const string Vhost = "localhost";

    [Test]
    public async Task PausedStream_DoesNotSlowItsSibling_AndGetsEverythingInOrderWhenItReadsAgain()
    {
        using var certificates = new TestCertificates();
        await using var server = await StartAsync(certificates, stallTimeoutMs: 0);

        var root = await RunAsync(server, "download", "paused", "2500");

        var stalled = root.GetProperty("stalled");
        var held = root.GetProperty("held");
        var a = root.GetProperty("a");
        var baseline = root.GetProperty("baselinePerSecond").GetInt32();
        var heldSeconds = held.GetProperty("ms").GetInt32() / 1000.0;
        Assert.Multiple(() =>
        {
            Assert.That(stalled.GetProperty("aStreamWindow").GetInt32(), Is.Zero, "A's stream window is spent: the server sent it all it may");
            Assert.That(stalled.GetProperty("connectionWindow").GetInt64(), Is.GreaterThan(32L * 1024 * 1024), "the client's connection window is not what stops A");
            Assert.That(stalled.GetProperty("senderWaitingForDrain").GetBoolean(), Is.True, "the server stopped reading the sender (A's queue at its limit)");
            Assert.That(stalled.GetProperty("sent").GetInt32(), Is.GreaterThan(new VhostOptions().SendQueueLimit), "more was sent than A's queue holds");
            Assert.That(heldSeconds, Is.GreaterThanOrEqualTo(2.0));
            Assert.That(held.GetProperty("aStreamWindow").GetInt32(), Is.Zero, "A stays paused with no window while B is measured");
            Assert.That(held.GetProperty("senderEchoes").GetInt32(), Is.EqualTo(stalled.GetProperty("senderEchoes").GetInt32()), "the sender stays held while A is paused");
            Assert.That(baseline, Is.GreaterThanOrEqualTo(10), "dumb-increment's normal rate (20 a second) before A pauses");
            Assert.That(held.GetProperty("bMessages").GetInt32(), Is.GreaterThanOrEqualTo((int)(0.75 * baseline * heldSeconds)), "B keeps its rate while A is paused");
            Assert.That(a.GetProperty("received").GetInt32(), Is.EqualTo(root.GetProperty("sent").GetInt32()), "A gets every message once it reads again");
            Assert.That(a.GetProperty("inOrder").GetBoolean(), Is.True);
            Assert.That(a.GetProperty("close").ValueKind, Is.EqualTo(JsonValueKind.Null), "stallTimeoutMs 0: a paused member is never closed");
            Assert.That(root.GetProperty("bAfterHalfSecond").GetInt32(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("sharedConnectionAlive").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task StalledStream_IsClosedAfterStallTimeout_WhileItsSiblingRunsOn()
    {
        using var certificates = new TestCertificates();
        await using var server = await StartAsync(certificates, stallTimeoutMs: 1000);

        var root = await RunAsync(server, "download", "stalled", "3000");

        var stalled = root.GetProperty("stalled");
        var held = root.GetProperty("held");
        var a = root.GetProperty("a");
        var baseline = root.GetProperty("baselinePerSecond").GetInt32();
        var heldSeconds = held.GetProperty("ms").GetInt32() / 1000.0;
        Assert.Multiple(() =>
        {
            Assert.That(stalled.GetProperty("aStreamWindow").GetInt32(), Is.Zero);
            Assert.That(a.GetProperty("close").GetProperty("code").GetInt32(), Is.EqualTo(1008));
            Assert.That(a.GetProperty("close").GetProperty("reason").GetString(), Is.EqualTo("stalled: no progress for 1000 ms"));
            Assert.That(a.GetProperty("inOrder").GetBoolean(), Is.True, "what A got before the close frame came in order, none skipped");
            Assert.That(a.GetProperty("received").GetInt32(), Is.LessThan(root.GetProperty("sent").GetInt32()), "the stalled member's queue was dropped");
            Assert.That(a.GetProperty("ended").GetBoolean(), Is.True);
            Assert.That(a.GetProperty("reset").ValueKind, Is.EqualTo(JsonValueKind.Null), "A's stream ends after the close handshake, not with a reset");
            Assert.That(held.GetProperty("senderEchoes").GetInt32(), Is.GreaterThan(stalled.GetProperty("senderEchoes").GetInt32()), "the sender A held resumes");
            Assert.That(held.GetProperty("bMessages").GetInt32(), Is.GreaterThanOrEqualTo((int)(0.75 * baseline * heldSeconds)), "B keeps its rate through A's stall and close");
            Assert.That(root.GetProperty("bAfterHalfSecond").GetInt32(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("bEnded").GetBoolean(), Is.False);
            Assert.That(root.GetProperty("sharedConnectionAlive").GetBoolean(), Is.True);
        });
    }

    [TestCase(1)]
    [TestCase(8)]
    public async Task PausedUploadStreams_DoNotStopASiblingsUpload(int paused)
    {
        using var certificates = new TestCertificates();
        await using var server = await StartAsync(certificates, stallTimeoutMs: 0);

        var root = await RunAsync(server, "upload", $"upload{paused}", paused.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var blocked = root.GetProperty("blocked").EnumerateArray().ToArray();
        var still = root.GetProperty("blockedStill").EnumerateArray().ToArray();
        var sibling = root.GetProperty("sibling");
        Assert.Multiple(() =>
        {
            Assert.That(blocked, Has.Length.EqualTo(paused));
            for (var k = 0; k < paused; k++)
            {
                Assert.That(blocked[k].GetProperty("sent").GetInt32(), Is.GreaterThan(blocked[k].GetProperty("echoes").GetInt32()), $"the server stopped reading upload stream {k}");
                Assert.That(still[k].GetProperty("waiting").GetBoolean(), Is.True, $"upload stream {k} stays blocked while its sibling uploads");
                Assert.That(still[k].GetProperty("echoes").GetInt32(), Is.EqualTo(blocked[k].GetProperty("echoes").GetInt32()), $"upload stream {k} stays unread");
            }

            Assert.That(sibling.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null), () => sibling.GetProperty("error").ToString());
            Assert.That(sibling.GetProperty("echoed").GetInt32(), Is.EqualTo(1024), "the sibling's 2 MiB upload all arrived");
            Assert.That(sibling.GetProperty("inOrder").GetBoolean(), Is.True);
            Assert.That(root.GetProperty("sharedConnectionAlive").GetBoolean(), Is.True);
        });
    }

    private static async Task<LoopbackServer> StartAsync(TestCertificates certificates, int stallTimeoutMs)
    {
        var (certificate, key) = certificates.WritePem(certificates.ServerCertificate(Vhost), Vhost);
        var options = LoopbackServer.Vhost(Vhost, "dumb-increment-protocol", "lws-mirror-protocol");
        options.Tls = new VhostTlsOptions { Certificate = certificate, Key = key };
        options.StallTimeoutMs = stallTimeoutMs;
        return await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath, options);
    }

    private static async Task<JsonElement> RunAsync(LoopbackServer server, string scenario, string mirror, string parameter)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "node", "h2-flow-control.mjs");
        var output = await Command.RunCheckedAsync(
            TimeSpan.FromSeconds(90), "node", script, $"https://{server.EndPoint(Vhost)}", scenario, $"{mirror}-{Guid.NewGuid():N}", parameter);
        // The script prints one JSON line; Node's warnings, if any, are other lines.
        using var result = JsonDocument.Parse(output.Split('\n').Last(line => line.StartsWith('{')));
        return result.RootElement.Clone();
    }
}
