using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Backplane;
using LwsPlugins.Sdk;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace LwsPlugins.Host.Tests.Backplane;

/// <summary>Two "servers" (backplanes with their own origin) on one in-process bus, with real SessionGroups.</summary>
[TestFixture]
public sealed class InProcessBackplaneTests
{
    private InProcessBus _bus = null!;
    private InProcessBackplane _a = null!;
    private InProcessBackplane _b = null!;

    [SetUp]
    public async Task StartTwoServers()
    {
        _bus = new InProcessBus();
        _a = await StartAsync(_bus);
        _b = await StartAsync(_bus);
    }

    [TearDown]
    public async Task Stop()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Test]
    public async Task Broadcast_ReachesTheOtherServersMembers_ExactlyOnce_InOrder_AndItsOwnOnlyDirectly()
    {
        await using var onA = new InstanceBackplane(_a, "localhost", "lws-mirror-protocol");
        await using var onB = new InstanceBackplane(_b, "LocalHost", "lws-mirror-protocol");
        using var groupA = new SessionGroup(onA, "team");
        using var groupB = new SessionGroup(onB, "team");
        var memberA = new Member();
        var memberB = new Member();
        groupA.Add(memberA.Session);
        groupB.Add(memberB.Session);

        for (var i = 0; i < 100; i++)
        {
            groupA.Broadcast(WebSocketMessageType.Text, Encoding.UTF8.GetBytes($"a{i}"));
        }

        groupB.Broadcast(WebSocketMessageType.Text, "b0"u8.ToArray());
        await Eventually.WaitUntilAsync(() => memberB.Texts.Count == 101 && memberA.Texts.Count == 101);
        await Task.Delay(50);

        Assert.That(memberB.Texts.Where(t => t.StartsWith('a')), Is.EqualTo(Enumerable.Range(0, 100).Select(i => $"a{i}")));
        Assert.That(memberA.Texts.Where(t => t.StartsWith('a')), Is.EqualTo(Enumerable.Range(0, 100).Select(i => $"a{i}")), "own messages once");
        Assert.That(memberA.Texts.Count(t => t == "b0"), Is.EqualTo(1));
        Assert.That(memberB.Texts.Count(t => t == "b0"), Is.EqualTo(1));
        Assert.That(_b.GetStatus().Received, Is.EqualTo(100));
        Assert.That(_a.GetStatus().Received, Is.EqualTo(1));
    }

    [Test]
    public async Task GroupsOfOtherNamesVhostsOrProtocols_StayIsolated()
    {
        await using var mirrorA = new InstanceBackplane(_a, "localhost", "lws-mirror-protocol");
        await using var mirrorB = new InstanceBackplane(_b, "localhost", "lws-mirror-protocol");
        await using var otherVhostB = new InstanceBackplane(_b, "other", "lws-mirror-protocol");
        await using var otherProtocolB = new InstanceBackplane(_b, "localhost", "chat");
        using var sender = new SessionGroup(mirrorA, "x");
        using var sameName = new SessionGroup(mirrorB, "x");
        using var otherName = new SessionGroup(mirrorB, "y");
        using var otherVhost = new SessionGroup(otherVhostB, "x");
        using var otherProtocol = new SessionGroup(otherProtocolB, "x");
        var members = new[] { new Member(), new Member(), new Member(), new Member() };
        sameName.Add(members[0].Session);
        otherName.Add(members[1].Session);
        otherVhost.Add(members[2].Session);
        otherProtocol.Add(members[3].Session);

        sender.Broadcast(WebSocketMessageType.Text, "hello"u8.ToArray());
        await Eventually.WaitUntilAsync(() => members[0].Texts.Count == 1);
        sameName.Broadcast(WebSocketMessageType.Text, "marker"u8.ToArray());

        Assert.That(members[0].Texts, Is.EqualTo(new[] { "hello", "marker" }));
        Assert.That(members.Skip(1).Select(m => m.Texts.Count), Is.All.Zero);
    }

    [Test]
    public async Task DisposingTheInstance_LeavesItsChannels_AndDropsTheGroups()
    {
        var onA = new InstanceBackplane(_a, "localhost", "lws-mirror-protocol");
        await using var onB = new InstanceBackplane(_b, "localhost", "lws-mirror-protocol");
        var forgotten = new SessionGroup(onA, "left-open");
        var member = new Member();
        forgotten.Add(member.Session);
        using var sender = new SessionGroup(onB, "left-open");
        Assert.That(_a.GetStatus().Channels, Is.EqualTo(1));

        await onA.DisposeAsync();
        sender.Broadcast(WebSocketMessageType.Text, "after"u8.ToArray());
        await Eventually.WaitUntilAsync(() => _b.GetStatus().Published == 1);
        await Task.Delay(50);

        Assert.That(_a.GetStatus().Channels, Is.Zero);
        Assert.That(member.Texts, Is.Empty);
        Assert.That(() => onA.Join("late", (_, _) => { }), Throws.TypeOf<ObjectDisposedException>());
        GC.KeepAlive(forgotten);
    }

    [Test]
    public async Task RepeatedAndMissingSequenceNumbers_AreSkippedAndCounted()
    {
        await using var onB = new InstanceBackplane(_b, "localhost", "p");
        using var group = new SessionGroup(onB, "g");
        var member = new Member();
        group.Add(member.Session);
        var stranger = Guid.NewGuid();
        var channel = "lws/localhost/p/g";

        foreach (var sequence in new long[] { 1, 2, 2, 1, 5, 6 })
        {
            _bus.Publish(channel, BackplaneFrame.Encode(stranger, sequence, "s", WebSocketMessageType.Text, Encoding.UTF8.GetBytes($"m{sequence}")));
        }

        _bus.Publish(channel, [1, 2, 3]);
        await Eventually.WaitUntilAsync(() => member.Texts.Count == 4);
        await Task.Delay(50);

        Assert.That(member.Texts, Is.EqualTo(new[] { "m1", "m2", "m5", "m6" }));
        Assert.That(_b.GetStatus().Gaps, Is.EqualTo(2));
        Assert.That(_b.GetStatus().Received, Is.EqualTo(4));
        member.Mock.Verify(s => s.Close(SessionGroup.BackplaneGapStatus, SessionGroup.BackplaneGapReason), Times.Once, "the gap is told, not left silent");
        Assert.That(_b.GetStatus().LostReports, Is.EqualTo(1));
    }

    [Test]
    public async Task AMarkPastTheLastSequenceSeen_ClosesTheMembers_AMarkAtItDoesNot()
    {
        await using var onB = new InstanceBackplane(_b, "localhost", "p");
        using var group = new SessionGroup(onB, "g");
        var member = new Member();
        group.Add(member.Session);
        var stranger = Guid.NewGuid();
        var channel = "lws/localhost/p/g";

        _bus.Publish(channel, BackplaneFrame.Encode(stranger, 3, 1, null, WebSocketMessageType.Text, "m1"u8));
        _bus.Publish(channel, BackplaneFrame.EncodeMark(stranger, 3, 1));
        _bus.Publish(channel, BackplaneFrame.Encode(stranger, 3, 2, null, WebSocketMessageType.Text, "m2"u8));
        await Eventually.WaitUntilAsync(() => member.Texts.Count == 2);
        member.Mock.Verify(s => s.Close(It.IsAny<WebSocketCloseStatus>(), It.IsAny<string?>()), Times.Never);

        // The stranger's messages 3 and 4 were lost before it sent anything more: only its mark tells.
        _bus.Publish(channel, BackplaneFrame.EncodeMark(stranger, 3, 4));
        await Eventually.WaitUntilAsync(() => _b.GetStatus().LostReports == 1);

        member.Mock.Verify(s => s.Close(SessionGroup.BackplaneGapStatus, SessionGroup.BackplaneGapReason), Times.Once);
        Assert.That(member.Texts, Is.EqualTo(new[] { "m1", "m2" }), "a mark is not a message");
        Assert.That(_b.GetStatus().Gaps, Is.EqualTo(2));
    }

    [Test]
    public async Task AGroupJoinedAgain_StartsANewIncarnation_WhoseMessagesTheOtherServerDelivers()
    {
        await using var onA = new InstanceBackplane(_a, "localhost", "p");
        await using var onB = new InstanceBackplane(_b, "localhost", "p");
        using var groupB = new SessionGroup(onB, "g");
        var member = new Member();
        groupB.Add(member.Session);
        var first = new SessionGroup(onA, "g");
        for (var i = 0; i < 5; i++)
        {
            first.Broadcast(WebSocketMessageType.Text, Encoding.UTF8.GetBytes($"first {i}"));
        }

        await Eventually.WaitUntilAsync(() => member.Texts.Count == 5);
        first.Dispose();

        // Its sequence starts at 1 again: without the incarnation B would skip these as seen.
        using var second = new SessionGroup(onA, "g");
        second.Broadcast(WebSocketMessageType.Text, "second 0"u8.ToArray());
        await Eventually.WaitUntilAsync(() => member.Texts.Count == 6);

        Assert.That(member.Texts[^1], Is.EqualTo("second 0"));
        member.Mock.Verify(s => s.Close(It.IsAny<WebSocketCloseStatus>(), It.IsAny<string?>()), Times.Never);
    }

    [Test]
    public async Task AloneOnItsBus_ABroadcastIsNotFramedOrSent()
    {
        await using var alone = await StartAsync(new InProcessBus());
        await using var instance = new InstanceBackplane(alone, "localhost", "p");
        using var group = new SessionGroup(instance, "g");
        var member = new Member();
        group.Add(member.Session);

        group.Broadcast(WebSocketMessageType.Text, "x"u8.ToArray());

        Assert.That(member.Texts, Is.EqualTo(new[] { "x" }));
        Assert.That(alone.GetStatus().Published, Is.Zero);
        Assert.That(alone.GetStatus().Dropped, Is.Zero);
    }

    private static async Task<InProcessBackplane> StartAsync(InProcessBus bus)
    {
        var backplane = new InProcessBackplane(bus, "lws/", 1000, TimeProvider.System, NullLogger.Instance);
        await backplane.StartAsync(CancellationToken.None);
        return backplane;
    }

    private sealed class Member
    {
        private readonly List<string> _texts = [];

        public Member()
        {
            var session = new Mock<IWebSocketSession>();
            session.Setup(s => s.TrySend(It.IsAny<WebSocketMessageType>(), It.IsAny<ReadOnlyMemory<byte>>()))
                .Callback((WebSocketMessageType _, ReadOnlyMemory<byte> payload) =>
                {
                    lock (_texts)
                    {
                        _texts.Add(Encoding.UTF8.GetString(payload.Span));
                    }
                })
                .Returns(true);
            Session = session.Object;
            Mock = session;
        }

        public IWebSocketSession Session { get; }

        public Mock<IWebSocketSession> Mock { get; }

        public IReadOnlyList<string> Texts
        {
            get
            {
                lock (_texts)
                {
                    return [.. _texts];
                }
            }
        }
    }
}
