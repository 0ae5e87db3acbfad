using System.Net.WebSockets;
using LwsPlugins.Host.Backplane;

namespace LwsPlugins.Host.Tests.Backplane;

[TestFixture]
public sealed class BackplaneFrameTests
{
    [Test]
    public void EncodeThenDecode_GivesBackOriginSequenceSenderTypeAndPayload()
    {
        var origin = Guid.NewGuid();
        var frame = BackplaneFrame.Encode(origin, 42, "session-7", WebSocketMessageType.Binary, [1, 2, 3]);

        Assert.That(BackplaneFrame.TryDecode(frame, out var decoded), Is.True);
        Assert.That(decoded.Origin, Is.EqualTo(origin));
        Assert.That(decoded.Sequence, Is.EqualTo(42));
        Assert.That(decoded.SenderId, Is.EqualTo("session-7"));
        Assert.That(decoded.Type, Is.EqualTo(WebSocketMessageType.Binary));
        Assert.That(decoded.Payload.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(frame, Has.Length.EqualTo(BackplaneFrame.HeaderSize + "session-7".Length + 3));
    }

    [Test]
    public void NoSenderAndEmptyPayload_RoundTrip()
    {
        var frame = BackplaneFrame.Encode(Guid.NewGuid(), 1, null, WebSocketMessageType.Text, []);

        Assert.That(BackplaneFrame.TryDecode(frame, out var decoded), Is.True);
        Assert.That(decoded.SenderId, Is.Null);
        Assert.That(decoded.Type, Is.EqualTo(WebSocketMessageType.Text));
        Assert.That(decoded.Payload.IsEmpty, Is.True);
    }

    [Test]
    public void Mark_CarriesOriginIncarnationAndLastSequence_AndNoPayload()
    {
        var origin = Guid.NewGuid();
        var frame = BackplaneFrame.EncodeMark(origin, 7, 1234);

        Assert.That(BackplaneFrame.TryDecode(frame, out var decoded), Is.True);
        Assert.That(decoded.IsMark, Is.True);
        Assert.That((decoded.Origin, decoded.Incarnation, decoded.Sequence), Is.EqualTo((origin, 7L, 1234L)));
        Assert.That(decoded.Payload.IsEmpty, Is.True);
        Assert.That(BackplaneFrame.TryDecode(BackplaneFrame.Encode(origin, 7, 1, null, WebSocketMessageType.Text, [65]), out var message) && !message.IsMark, Is.True);
    }

    [Test]
    public void MalformedFrames_AreRefused()
    {
        var good = BackplaneFrame.Encode(Guid.NewGuid(), 5, "abc", WebSocketMessageType.Text, [65]);
        var wrongVersion = (byte[])good.Clone();
        wrongVersion[0] = 9;
        var wrongType = (byte[])good.Clone();
        wrongType[1] = 3;
        var zeroSequence = BackplaneFrame.Encode(Guid.NewGuid(), 0, null, WebSocketMessageType.Text, [65]);
        var senderPastTheEnd = (byte[])good.Clone();
        senderPastTheEnd[35] = 200;

        Assert.That(BackplaneFrame.TryDecode(good.AsMemory(0, BackplaneFrame.HeaderSize - 1), out _), Is.False, "short");
        Assert.That(BackplaneFrame.TryDecode(wrongVersion, out _), Is.False, "version");
        Assert.That(BackplaneFrame.TryDecode(wrongType, out _), Is.False, "type");
        Assert.That(BackplaneFrame.TryDecode(zeroSequence, out _), Is.False, "sequence");
        Assert.That(BackplaneFrame.TryDecode(senderPastTheEnd, out _), Is.False, "sender length");
    }
}
