using System.Net.WebSockets;
using System.Runtime.InteropServices;
using LwsPlugins.Sdk;
using Moq;

namespace LwsPlugins.Host.Tests.Sdk;

[TestFixture]
public sealed class SessionGroupTests
{
    [Test]
    public void Broadcast_QueuesTheSamePayloadInstanceToEveryMemberInOrder()
    {
        var group = new SessionGroup();
        var members = Enumerable.Range(0, 3).Select(_ => new RecordingSession()).ToList();
        members.ForEach(m => group.Add(m.Object));
        var first = new byte[] { 1, 2, 3 };
        var second = new byte[] { 4 };

        var acceptedFirst = group.Broadcast(WebSocketMessageType.Binary, first);
        var acceptedSecond = group.Broadcast(WebSocketMessageType.Text, second);

        Assert.That(acceptedFirst, Is.EqualTo(3));
        Assert.That(acceptedSecond, Is.EqualTo(3));
        foreach (var member in members)
        {
            var received = member.Received;
            Assert.That(received, Has.Count.EqualTo(2));
            Assert.That(received[0].Type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(ArrayOf(received[0].Payload), Is.SameAs(first));
            Assert.That(received[0].Payload.Length, Is.EqualTo(3));
            Assert.That(received[1].Type, Is.EqualTo(WebSocketMessageType.Text));
            Assert.That(ArrayOf(received[1].Payload), Is.SameAs(second));
        }
    }

    [Test]
    public void Broadcast_MemberThatRefuses_IsNotCountedButOthersStillReceive()
    {
        var group = new SessionGroup();
        var before = new RecordingSession();
        var refusing = new RecordingSession(accept: false);
        var after = new RecordingSession();
        group.Add(before.Object);
        group.Add(refusing.Object);
        group.Add(after.Object);

        var accepted = group.Broadcast(WebSocketMessageType.Text, "x"u8.ToArray());

        Assert.That(accepted, Is.EqualTo(2));
        Assert.That(before.Received, Has.Count.EqualTo(1));
        Assert.That(refusing.Received, Has.Count.EqualTo(1), "the refusing member was still offered the message");
        Assert.That(after.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public void Broadcast_EmptyGroup_ReturnsZero()
    {
        Assert.That(new SessionGroup().Broadcast(WebSocketMessageType.Text, "x"u8.ToArray()), Is.Zero);
    }

    [Test]
    public void Add_SameSessionTwice_KeepsOneMembership()
    {
        var group = new SessionGroup();
        var session = new RecordingSession();

        var first = group.Add(session.Object);
        var second = group.Add(session.Object);
        group.Broadcast(WebSocketMessageType.Text, "x"u8.ToArray());

        Assert.That(first, Is.EqualTo(1));
        Assert.That(second, Is.EqualTo(1));
        Assert.That(group.Count, Is.EqualTo(1));
        Assert.That(session.Received, Has.Count.EqualTo(1), "a duplicate member would receive the broadcast twice");
    }

    [Test]
    public void Add_ReturnsCountAndMembersKeepJoiningOrder()
    {
        var group = new SessionGroup();
        var a = new Mock<IWebSocketSession>().Object;
        var b = new Mock<IWebSocketSession>().Object;
        var c = new Mock<IWebSocketSession>().Object;

        Assert.That(group.Add(a), Is.EqualTo(1));
        Assert.That(group.Add(b), Is.EqualTo(2));
        Assert.That(group.Add(c), Is.EqualTo(3));
        Assert.That(group.GetMembers(), Is.EqualTo(new[] { a, b, c }));
    }

    [Test]
    public void Add_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new SessionGroup().Add(null!));
    }

    [Test]
    public void Remove_ReturnsTheRemainingCountAndStopsDelivery()
    {
        var group = new SessionGroup();
        var staying = new RecordingSession();
        var leaving = new RecordingSession();
        group.Add(staying.Object);
        group.Add(leaving.Object);

        var remaining = group.Remove(leaving.Object);
        var accepted = group.Broadcast(WebSocketMessageType.Text, "x"u8.ToArray());

        Assert.That(remaining, Is.EqualTo(1));
        Assert.That(accepted, Is.EqualTo(1));
        Assert.That(leaving.Received, Is.Empty);
        Assert.That(staying.Received, Has.Count.EqualTo(1));
        Assert.That(group.GetMembers(), Is.EqualTo(new[] { staying.Object }));
    }

    [Test]
    public void Remove_NonMember_ReturnsTheUnchangedCount()
    {
        var group = new SessionGroup();
        group.Add(new Mock<IWebSocketSession>().Object);
        group.Add(new Mock<IWebSocketSession>().Object);

        Assert.That(group.Remove(new Mock<IWebSocketSession>().Object), Is.EqualTo(2));
    }

    [Test]
    public void GetMembers_IsASnapshotUnaffectedByLaterChanges()
    {
        var group = new SessionGroup();
        var a = new Mock<IWebSocketSession>().Object;
        group.Add(a);

        var snapshot = group.GetMembers();
        group.Add(new Mock<IWebSocketSession>().Object);
        group.Remove(a);

        Assert.That(snapshot, Is.EqualTo(new[] { a }));
    }

    [Test]
    public void Broadcast_FromSeveralThreads_EveryMemberSeesTheSameOrder()
    {
        const int threads = 4;
        const int messagesPerThread = 250;
        var group = new SessionGroup();
        var members = Enumerable.Range(0, 5).Select(_ => new RecordingSession()).ToList();
        members.ForEach(m => group.Add(m.Object));
        var accepted = new int[threads];
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var n = 0; n < messagesPerThread; n++)
            {
                accepted[t] += group.Broadcast(WebSocketMessageType.Binary, new[] { (byte)t, (byte)(n >> 8), (byte)n });
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        var reference = members[0].Received.Select(r => ArrayOf(r.Payload)).ToList();
        Assert.That(reference, Has.Count.EqualTo(threads * messagesPerThread));
        Assert.That(accepted, Is.All.EqualTo(messagesPerThread * members.Count));
        for (var i = 1; i < members.Count; i++)
        {
            var order = members[i].Received.Select(r => ArrayOf(r.Payload)).ToList();
            Assert.That(order, Has.Count.EqualTo(reference.Count), $"member {i}");
            var mismatch = Enumerable.Range(0, reference.Count).FirstOrDefault(k => !ReferenceEquals(order[k], reference[k]), -1);
            Assert.That(mismatch, Is.EqualTo(-1), $"member {i} received another order than member 0 from message {mismatch} on");
        }

        for (var t = 0; t < threads; t++)
        {
            var fromThread = reference.Where(p => p[0] == t).Select(p => (p[1] << 8) | p[2]);
            Assert.That(fromThread, Is.EqualTo(Enumerable.Range(0, messagesPerThread)), $"thread {t}'s own order");
        }
    }

    private static byte[] ArrayOf(ReadOnlyMemory<byte> payload)
    {
        Assert.That(MemoryMarshal.TryGetArray(payload, out var segment), Is.True);
        Assert.That(segment.Offset, Is.Zero);
        return segment.Array!;
    }

    /// <summary>A Moq session whose <see cref="IWebSocketSession.TrySend"/> records every call.</summary>
    private sealed class RecordingSession
    {
        private readonly List<(WebSocketMessageType Type, ReadOnlyMemory<byte> Payload)> _received = [];

        public RecordingSession(bool accept = true)
        {
            var mock = new Mock<IWebSocketSession>(MockBehavior.Strict);
            mock.Setup(s => s.TrySend(It.IsAny<WebSocketMessageType>(), It.IsAny<ReadOnlyMemory<byte>>()))
                .Callback((WebSocketMessageType type, ReadOnlyMemory<byte> payload) =>
                {
                    lock (_received)
                    {
                        _received.Add((type, payload));
                    }
                })
                .Returns(accept);
            Object = mock.Object;
        }

        public IWebSocketSession Object { get; }

        public IReadOnlyList<(WebSocketMessageType Type, ReadOnlyMemory<byte> Payload)> Received
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }
    }
}
