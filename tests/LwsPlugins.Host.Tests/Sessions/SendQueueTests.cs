using System.Net.WebSockets;
using LwsPlugins.Host.Sessions;

namespace LwsPlugins.Host.Tests.Sessions;

[TestFixture]
public sealed class SendQueueTests
{
    [Test]
    public void FirstEnqueue_StartsTheWriter_LaterOnesDoNot_UntilTheWriterFindsTheQueueEmpty()
    {
        var queue = new SendQueue(8, dropOldest: false);

        Assert.That(queue.TryEnqueue(Message(1), out _), Is.EqualTo(EnqueueResult.StartWriter));
        Assert.That(queue.TryEnqueue(Message(2), out _), Is.EqualTo(EnqueueResult.Queued));
        Assert.That(Drain(queue), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(queue.TryDequeue(out _), Is.EqualTo(DequeueResult.Idle));
        Assert.That(queue.TryEnqueue(Message(3), out _), Is.EqualTo(EnqueueResult.StartWriter), "the writer stopped, so the next message starts it");
    }

    [Test]
    public void AtTheLimit_PolicyClose_RefusesTheMessage()
    {
        var queue = new SendQueue(3, dropOldest: false);
        for (var i = 0; i < 3; i++)
        {
            queue.TryEnqueue(Message(i), out _);
        }

        Assert.That(queue.TryEnqueue(Message(3), out var dropped), Is.EqualTo(EnqueueResult.Full));
        Assert.That(dropped, Is.False);
        Assert.That(Drain(queue), Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void AtTheLimit_PolicyDropOldest_DropsTheOldestAndKeepsOrder()
    {
        var queue = new SendQueue(3, dropOldest: true);
        for (var i = 0; i < 3; i++)
        {
            queue.TryEnqueue(Message(i), out _);
        }

        Assert.That(queue.TryEnqueue(Message(3), out var dropped), Is.EqualTo(EnqueueResult.Queued));
        Assert.That(dropped, Is.True);
        Assert.That(Drain(queue), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void ARingThatWrapsAndGrows_KeepsOrder()
    {
        var queue = new SendQueue(1000, dropOldest: false);
        var expected = new List<int>();
        var taken = new List<int>();
        var next = 0;
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < (round % 7) + 1; i++)
            {
                expected.Add(next);
                queue.TryEnqueue(Message(next++), out _);
            }

            if (queue.TryDequeue(out var message) == DequeueResult.Message)
            {
                taken.Add(message.Payload.Length);
            }
        }

        taken.AddRange(Drain(queue));
        Assert.That(taken, Is.EqualTo(expected));
    }

    [Test]
    public void Complete_WithTheWriterStopped_StartsItForTheCloseFrame_AndRefusesNewMessages()
    {
        var queue = new SendQueue(8, dropOldest: false);

        Assert.That(queue.Complete(), Is.EqualTo(EnqueueResult.StartWriter));
        Assert.That(queue.TryEnqueue(Message(1), out _), Is.EqualTo(EnqueueResult.Closed));
        Assert.That(queue.TryDequeue(out _), Is.EqualTo(DequeueResult.CloseDue));
        Assert.That(queue.Complete(), Is.EqualTo(EnqueueResult.Closed), "completing twice does nothing");
    }

    [Test]
    public void Complete_WhileTheWriterRuns_LetsItWriteWhatIsQueuedThenTheCloseFrame()
    {
        var queue = new SendQueue(8, dropOldest: false);
        queue.TryEnqueue(Message(1), out _);
        queue.TryEnqueue(Message(2), out _);

        Assert.That(queue.Complete(), Is.EqualTo(EnqueueResult.Queued), "the running writer sends the close frame");
        Assert.That(queue.TryDequeue(out var first), Is.EqualTo(DequeueResult.Message));
        Assert.That(queue.TryDequeue(out var second), Is.EqualTo(DequeueResult.Message));
        Assert.That(queue.TryDequeue(out _), Is.EqualTo(DequeueResult.CloseDue));
        Assert.That((first.Payload.Length, second.Payload.Length), Is.EqualTo((1, 2)));
    }

    [Test]
    public void Clear_DropsWhatWaits_SoACutOffClientGetsOnlyTheCloseFrame()
    {
        var queue = new SendQueue(8, dropOldest: false);
        queue.TryEnqueue(Message(1), out _);
        queue.TryEnqueue(Message(2), out _);

        queue.Clear();
        queue.Complete();

        Assert.That(queue.Count, Is.Zero);
        Assert.That(queue.TryDequeue(out _), Is.EqualTo(DequeueResult.CloseDue));
    }

    // The payload's length carries the message's number.
    private static OutboundMessage Message(int number) => new(WebSocketMessageType.Text, new byte[number], 0);

    private static List<int> Drain(SendQueue queue)
    {
        var lengths = new List<int>();
        while (queue.TryDequeue(out var message) == DequeueResult.Message)
        {
            lengths.Add(message.Payload.Length);
        }

        return lengths;
    }
}
