using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Sdk;
using Moq;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>The SDK's awaitable send: a session that does not wait (the default implementation) queues as TrySend does.</summary>
[TestFixture]
public sealed class WebSocketSessionSendTests
{
    [Test]
    public async Task SendTextAsync_OnASessionWithoutItsOwnWait_IsTrySendOfTheUtf8Bytes()
    {
        var session = new Mock<IWebSocketSession> { CallBase = true };
        byte[]? sent = null;
        session.Setup(s => s.TrySend(WebSocketMessageType.Text, It.IsAny<ReadOnlyMemory<byte>>()))
            .Callback((WebSocketMessageType _, ReadOnlyMemory<byte> payload) => sent = payload.ToArray())
            .Returns(false);

        var accepted = await session.Object.SendTextAsync("héllo");

        Assert.That(accepted, Is.False, "TrySend's answer is passed on");
        Assert.That(sent, Is.EqualTo(Encoding.UTF8.GetBytes("héllo")));
    }

    [Test]
    public void SendAsync_WithACancelledToken_QueuesNothing()
    {
        var session = new Mock<IWebSocketSession> { CallBase = true };

        Assert.That(
            async () => await session.Object.SendAsync(WebSocketMessageType.Binary, new byte[1], new CancellationToken(canceled: true)),
            Throws.InstanceOf<OperationCanceledException>());
        session.Verify(s => s.TrySend(It.IsAny<WebSocketMessageType>(), It.IsAny<ReadOnlyMemory<byte>>()), Times.Never);
    }
}
