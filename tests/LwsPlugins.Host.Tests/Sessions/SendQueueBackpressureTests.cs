using System.Net.WebSockets;
using LwsPlugins.Host.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Sessions;

/// <summary>The send queue under <c>slowConsumerPolicy: backpressure</c>: high and low water, the overshoot bound, stalls.</summary>
[TestFixture]
public sealed class SendQueueBackpressureTests
{
    private const int Limit = 8;

    [Test]
    public void BelowTheLimit_TheFeederIsNotPaused()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        var sender = new ReadGate();

        for (var i = 0; i < Limit - 1; i++)
        {
            queue.TryEnqueue(Message(i), sender, out _, out var paused);
            Assert.That(paused, Is.False);
        }

        Assert.That(sender.IsClosed, Is.False);
    }

    [Test]
    public void AtTheLimit_TheFeederIsPaused_NothingIsDropped_AndItResumesAtHalf()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        var sender = new ReadGate();
        var pauses = 0;
        for (var i = 0; i < Limit + 3; i++)
        {
            Assert.That(queue.TryEnqueue(Message(i), sender, out var dropped, out var paused), Is.Not.EqualTo(EnqueueResult.Full));
            Assert.That(dropped, Is.False);
            pauses += paused ? 1 : 0;
        }

        Assert.That(sender.IsClosed, Is.True);
        Assert.That(pauses, Is.EqualTo(1), "one pause, however many messages went over");
        Assert.That(queue.HeldFeeders, Is.EqualTo(1));

        // 11 waiting: the gate stays closed until the queue is down to 4 (half the limit).
        var taken = new List<int>();
        while (queue.Count > Limit / 2 + 1)
        {
            queue.TryDequeue(out var message, 0);
            taken.Add(message.Payload.Length);
            Assert.That(sender.IsClosed, Is.True, $"released early at {queue.Count}");
        }

        queue.TryDequeue(out var fifth, 0);
        taken.Add(fifth.Payload.Length);
        Assert.That(queue.Count, Is.EqualTo(Limit / 2));
        Assert.That(sender.IsClosed, Is.False, "released at the low-water mark");
        Assert.That(queue.HeldFeeders, Is.Zero);
        taken.AddRange(Drain(queue));
        Assert.That(taken, Is.EqualTo(Enumerable.Range(0, Limit + 3)), "every message, in order");
    }

    [Test]
    public void EverySenderOverTheLimitIsPaused_AndAllResumeTogether()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        var senders = Enumerable.Range(0, 3).Select(_ => new ReadGate()).ToArray();
        for (var i = 0; i < Limit; i++)
        {
            queue.TryEnqueue(Message(i), senders[i % senders.Length], out _, out _);
        }

        // The eighth message (from sender 1) reached the limit; each sender that feeds the queue while it is there is paused.
        Assert.That(senders.Select(s => s.IsClosed), Is.EqualTo(new[] { false, true, false }));
        queue.TryEnqueue(Message(Limit), senders[0], out _, out _);
        queue.TryEnqueue(Message(Limit + 1), senders[2], out _, out _);
        Assert.That(senders.Select(s => s.IsClosed), Is.All.True);

        Drain(queue, until: Limit / 2);

        Assert.That(senders.Select(s => s.IsClosed), Is.All.False);
    }

    [Test]
    public void AMessageWithoutAFeeder_GoesOverTheLimit_UpToTwiceIt_ThenTheQueueIsFull()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        for (var i = 0; i < 2 * Limit; i++)
        {
            Assert.That(queue.TryEnqueue(Message(i), null, out _, out _), Is.Not.EqualTo(EnqueueResult.Full), $"message {i}");
        }

        Assert.That(queue.Capacity, Is.EqualTo(2 * Limit));
        Assert.That(queue.TryEnqueue(Message(2 * Limit), null, out var dropped, out _), Is.EqualTo(EnqueueResult.Full));
        Assert.That(dropped, Is.False);
        Assert.That(Drain(queue), Is.EqualTo(Enumerable.Range(0, 2 * Limit)));
    }

    [Test]
    public void CompletingTheQueue_ReleasesThePausedSenders_AndWakesTheWaitersForRoom()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        var sender = new ReadGate();
        for (var i = 0; i < Limit; i++)
        {
            queue.TryEnqueue(Message(i), sender, out _, out _);
        }

        var room = queue.WaitForRoom();
        Assert.That(room, Is.Not.Null);
        Assert.That(room!.IsCompleted, Is.False);

        queue.Clear();
        queue.Complete();

        Assert.That(sender.IsClosed, Is.False, "a member cut off frees the senders it held");
        Assert.That(room.Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(queue.WaitForRoom(), Is.Null, "a closing queue never makes a sender wait");
    }

    [Test]
    public void WaitForRoom_CompletesWhenTheQueueIsUnderTheLimitAgain()
    {
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        Assert.That(queue.WaitForRoom(), Is.Null);
        for (var i = 0; i < Limit; i++)
        {
            queue.TryEnqueue(Message(i), null, out _, out _);
        }

        var room = queue.WaitForRoom()!;
        Assert.That(room.IsCompleted, Is.False);

        queue.TryDequeue(out _, 0);

        Assert.That(room.Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(queue.WaitForRoom(), Is.Null);
    }

    [Test]
    public void AWriterThatTakesNothingForTheTimeout_IsStalled_OneThatMovesIsNot()
    {
        var time = new FakeTimeProvider();
        var timeout = time.TimestampFrequency * 3;
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        Assert.That(queue.IsStalled(time.GetTimestamp(), timeout), Is.False, "an idle queue never stalls");

        queue.TryEnqueue(Message(1, time.GetTimestamp()), null, out _, out _);
        queue.TryEnqueue(Message(2, time.GetTimestamp()), null, out _, out _);
        time.Advance(TimeSpan.FromSeconds(2));
        queue.TryDequeue(out _, time.GetTimestamp());
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.That(queue.IsStalled(time.GetTimestamp(), timeout), Is.False, "progress 2.9 s ago");

        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(queue.IsStalled(time.GetTimestamp(), timeout), Is.True, "the write in flight took 3 s");
    }

    [Test]
    public void AQueueIdleForLong_IsMeasuredFromItsNextMessage_NotFromItsLastBurst()
    {
        var time = new FakeTimeProvider();
        var timeout = time.TimestampFrequency * 3;
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        queue.TryEnqueue(Message(1, time.GetTimestamp()), null, out _, out _);
        Drain(queue);
        time.Advance(TimeSpan.FromMinutes(10));

        queue.TryEnqueue(Message(2, time.GetTimestamp()), null, out _, out _);

        Assert.That(queue.IsStalled(time.GetTimestamp(), timeout), Is.False);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(queue.IsStalled(time.GetTimestamp(), timeout), Is.True);
    }

    [Test]
    public void AClosingQueue_IsNeverStalled_ItsCloseTimeoutBoundsIt()
    {
        var time = new FakeTimeProvider();
        var queue = new SendQueue(Limit, dropOldest: false, backpressure: true);
        queue.TryEnqueue(Message(1, time.GetTimestamp()), null, out _, out _);
        queue.Complete();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(queue.IsStalled(time.GetTimestamp(), time.TimestampFrequency * 3), Is.False);
    }

    [Test]
    public void PolicyClose_StillRefusesAtTheLimit_AndPausesNobody()
    {
        var queue = new SendQueue(Limit, dropOldest: false);
        var sender = new ReadGate();
        for (var i = 0; i < Limit; i++)
        {
            queue.TryEnqueue(Message(i), sender, out _, out _);
        }

        Assert.That(queue.TryEnqueue(Message(Limit), sender, out _, out _), Is.EqualTo(EnqueueResult.Full));
        Assert.That(sender.IsClosed, Is.False);
    }

    // The payload's length carries the message's number.
    private static OutboundMessage Message(int number, long queuedAt = 0) => new(WebSocketMessageType.Text, new byte[number], queuedAt);

    /// <summary>Takes messages as the writer does; to empty (the writer then stops) unless told to stop at <paramref name="until"/> waiting.</summary>
    private static List<int> Drain(SendQueue queue, int until = -1)
    {
        var lengths = new List<int>();
        while (queue.Count > until && queue.TryDequeue(out var message, 0) == DequeueResult.Message)
        {
            lengths.Add(message.Payload.Length);
        }

        return lengths;
    }
}
