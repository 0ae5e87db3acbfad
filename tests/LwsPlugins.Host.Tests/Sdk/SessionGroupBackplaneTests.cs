using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Sdk;
using Moq;

namespace LwsPlugins.Host.Tests.Sdk;

[TestFixture]
public sealed class SessionGroupBackplaneTests
{
    [Test]
    public void Broadcast_DeliversLocallyAndPublishesOnceForTheOtherServers()
    {
        var link = new Mock<IFanOutLink>(MockBehavior.Strict);
        link.Setup(l => l.Dispose());
        var published = new List<string>();
        link.Setup(l => l.TryPublish(null, WebSocketMessageType.Text, It.IsAny<ReadOnlyMemory<byte>>()))
            .Callback((string? _, WebSocketMessageType _, ReadOnlyMemory<byte> payload) => published.Add(Encoding.UTF8.GetString(payload.Span)))
            .Returns(true);
        var backplane = new Mock<IFanOutBackplane>(MockBehavior.Strict);
        backplane.Setup(b => b.Join("room", It.IsAny<Action<WebSocketMessageType, ReadOnlyMemory<byte>>>(), It.IsAny<Action<string>>())).Returns(link.Object);
        using var group = new SessionGroup(backplane.Object, "room");
        var member = Member(out var received);
        group.Add(member);

        group.Broadcast(WebSocketMessageType.Text, "one"u8.ToArray());
        group.Broadcast(WebSocketMessageType.Text, "two"u8.ToArray());

        Assert.That(received, Is.EqualTo(new[] { "one", "two" }));
        Assert.That(published, Is.EqualTo(new[] { "one", "two" }));
    }

    [Test]
    public void MessageFromTheBackplane_ReachesEveryLocalMember_AndIsNotPublishedBack()
    {
        Action<WebSocketMessageType, ReadOnlyMemory<byte>>? deliver = null;
        var link = new Mock<IFanOutLink>(MockBehavior.Strict);
        link.Setup(l => l.Dispose());
        var backplane = new Mock<IFanOutBackplane>(MockBehavior.Strict);
        backplane.Setup(b => b.Join("room", It.IsAny<Action<WebSocketMessageType, ReadOnlyMemory<byte>>>(), It.IsAny<Action<string>>()))
            .Callback((string _, Action<WebSocketMessageType, ReadOnlyMemory<byte>> d, Action<string> _) => deliver = d)
            .Returns(link.Object);
        using var group = new SessionGroup(backplane.Object, "room");
        group.Add(Member(out var first));
        group.Add(Member(out var second));

        deliver!(WebSocketMessageType.Text, "remote"u8.ToArray());

        Assert.That(first, Is.EqualTo(new[] { "remote" }));
        Assert.That(second, Is.EqualTo(new[] { "remote" }));
        link.Verify(l => l.TryPublish(It.IsAny<string?>(), It.IsAny<WebSocketMessageType>(), It.IsAny<ReadOnlyMemory<byte>>()), Times.Never);
    }

    [Test]
    public void LossReportedByTheBackplane_ClosesEveryLocalMemberWith1012_AndNothingElse()
    {
        var lost = new List<Action<string>>();
        var backplane = new Mock<IFanOutBackplane>();
        backplane.Setup(b => b.Join("room", It.IsAny<Action<WebSocketMessageType, ReadOnlyMemory<byte>>>(), It.IsAny<Action<string>>()))
            .Callback((string _, Action<WebSocketMessageType, ReadOnlyMemory<byte>> _, Action<string> l) => lost.Add(l))
            .Returns(new Mock<IFanOutLink>().Object);
        using var group = new SessionGroup(backplane.Object, "room");
        using var other = new SessionGroup(backplane.Object, "room");
        var members = Enumerable.Range(0, 3).Select(_ => new Mock<IWebSocketSession>()).ToList();
        var outsider = new Mock<IWebSocketSession>();
        members.ForEach(m => group.Add(m.Object));
        other.Add(outsider.Object);

        lost[0]("3 message(s) of server x never arrived");

        Assert.That(SessionGroup.BackplaneGapStatus, Is.EqualTo((WebSocketCloseStatus)1012));
        members.ForEach(m => m.Verify(s => s.Close((WebSocketCloseStatus)1012, "backplane gap, reconnect"), Times.Once));
        outsider.Verify(s => s.Close(It.IsAny<WebSocketCloseStatus>(), It.IsAny<string?>()), Times.Never, "only the group told");
    }

    [Test]
    public void Dispose_LeavesTheBackplane()
    {
        var link = new Mock<IFanOutLink>();
        var backplane = new Mock<IFanOutBackplane>();
        backplane.Setup(b => b.Join("room", It.IsAny<Action<WebSocketMessageType, ReadOnlyMemory<byte>>>(), It.IsAny<Action<string>>())).Returns(link.Object);
        var group = new SessionGroup(backplane.Object, "room");

        group.Dispose();

        link.Verify(l => l.Dispose(), Times.Once);
    }

    [Test]
    public void LocalGroup_DisposeIsHarmless()
    {
        var group = new SessionGroup();
        group.Add(Member(out var received));
        group.Dispose();

        Assert.That(group.Broadcast(WebSocketMessageType.Text, "x"u8.ToArray()), Is.EqualTo(1));
        Assert.That(received, Is.EqualTo(new[] { "x" }));
    }

    private static IWebSocketSession Member(out List<string> received)
    {
        var texts = new List<string>();
        var session = new Mock<IWebSocketSession>();
        session.Setup(s => s.TrySend(It.IsAny<WebSocketMessageType>(), It.IsAny<ReadOnlyMemory<byte>>()))
            .Callback((WebSocketMessageType _, ReadOnlyMemory<byte> payload) => texts.Add(Encoding.UTF8.GetString(payload.Span)))
            .Returns(true);
        received = texts;
        return session.Object;
    }
}
