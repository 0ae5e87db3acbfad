using LwsPlugins.Host.Backplane;

namespace LwsPlugins.Host.Tests.Backplane;

[TestFixture]
public sealed class RedisStreamPackTests
{
    [Test]
    public void Take_ThenTryNext_GivesBackEveryFrameInOrder_AndEmptiesThePack()
    {
        var pack = new RedisStreamPack();
        byte[][] frames = [[1, 2, 3], [], [4]];
        foreach (var frame in frames)
        {
            Assert.That(pack.TryAdd(frame), Is.True);
        }

        var value = pack.Take();

        Assert.That(Read(value), Is.EqualTo(frames));
        Assert.That(pack.Count, Is.Zero);
        Assert.That(Read(pack.Take()), Is.Empty);
    }

    [Test]
    public void TryAdd_RefusesPastMaxFrames()
    {
        var pack = new RedisStreamPack();
        for (var i = 0; i < RedisStreamPack.MaxFrames; i++)
        {
            Assert.That(pack.TryAdd([(byte)i]), Is.True);
        }

        Assert.That(pack.TryAdd([0]), Is.False);
        Assert.That(pack.Count, Is.EqualTo(RedisStreamPack.MaxFrames));
    }

    [Test]
    public void TryAdd_RefusesPastMaxBytes_ButTakesALargeFrameAlone()
    {
        var pack = new RedisStreamPack();
        Assert.That(pack.TryAdd(new byte[RedisStreamPack.MaxBytes / 2]), Is.True);
        Assert.That(pack.TryAdd(new byte[RedisStreamPack.MaxBytes / 2]), Is.False, "with the length prefixes it is over the cap");

        var large = new RedisStreamPack();
        Assert.That(large.TryAdd(new byte[RedisStreamPack.MaxBytes * 4]), Is.True, "a message larger than the cap goes alone");
        Assert.That(large.TryAdd([1]), Is.False);
    }

    [Test]
    public void TryNext_StopsAtAMalformedLength_BeforeTheEnd()
    {
        var pack = new RedisStreamPack();
        pack.TryAdd([7, 7]);
        var value = pack.Take().Concat(new byte[] { 0, 0, 0, 9, 1 }).ToArray();

        var at = 0;
        Assert.That(RedisStreamPack.TryNext(value, ref at, out var first), Is.True);
        Assert.That(first.ToArray(), Is.EqualTo(new byte[] { 7, 7 }));
        Assert.That(RedisStreamPack.TryNext(value, ref at, out _), Is.False);
        Assert.That(at, Is.LessThan(value.Length), "the caller sees that the rest was not read");
    }

    private static List<byte[]> Read(byte[] value)
    {
        var frames = new List<byte[]>();
        var at = 0;
        while (RedisStreamPack.TryNext(value, ref at, out var frame))
        {
            frames.Add(frame.ToArray());
        }

        Assert.That(at, Is.EqualTo(value.Length));
        return frames;
    }
}
