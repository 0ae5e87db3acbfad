using LwsPlugins.Host.Status;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Status;

[TestFixture]
public sealed class PerformanceSamplerTests
{
    private const long MiB = 1024 * 1024;

    [Test]
    public void MemoryPerSession_IsTheGrowthSinceTheLastReadingWithNoSession_DividedBySessions()
    {
        var sampler = new PerformanceSampler(new FakeTimeProvider());

        var idle = sampler.Sample(sessions: 0, 0, 0, 0, workingSet: 100 * MiB, gcHeap: 10 * MiB);
        var loaded = sampler.Sample(sessions: 1000, 0, 0, 0, workingSet: 100 * MiB + (1000 * 14 * 1024), gcHeap: 10 * MiB + (1000 * 12 * 1024));

        Assert.That(idle.MemoryPerSessionBytes, Is.Null, "no session, nothing to divide by");
        Assert.That(idle.ManagedBytesPerSession, Is.Null);
        Assert.That(loaded.Sessions, Is.EqualTo(1000));
        Assert.That(loaded.MemoryPerSessionBytes, Is.EqualTo(14 * 1024));
        Assert.That(loaded.ManagedBytesPerSession, Is.EqualTo(12 * 1024));
    }

    [Test]
    public void MemoryPerSession_FollowsTheLatestIdleBaseline_AndIsNeverNegative()
    {
        var sampler = new PerformanceSampler(new FakeTimeProvider());
        sampler.Sample(0, 0, 0, 0, workingSet: 100 * MiB, gcHeap: 10 * MiB);
        sampler.Sample(0, 0, 0, 0, workingSet: 150 * MiB, gcHeap: 20 * MiB);

        var below = sampler.Sample(10, 0, 0, 0, workingSet: 140 * MiB, gcHeap: 20 * MiB);
        var above = sampler.Sample(10, 0, 0, 0, workingSet: 150 * MiB + 10240, gcHeap: 20 * MiB + 5120);

        Assert.That(below.MemoryPerSessionBytes, Is.Zero);
        Assert.That(above.MemoryPerSessionBytes, Is.EqualTo(1024));
        Assert.That(above.ManagedBytesPerSession, Is.EqualTo(512));
    }

    [Test]
    public void MemoryPerSession_IsUnknownUntilAReadingWithNoSession()
    {
        var sampler = new PerformanceSampler(new FakeTimeProvider());

        var first = sampler.Sample(5, 0, 0, 0, workingSet: 100 * MiB, gcHeap: 10 * MiB);

        Assert.That(first.MemoryPerSessionBytes, Is.Null);
    }

    [Test]
    public void Rates_AreMeasuredOverWindowsOfAtLeastOneSecond()
    {
        var time = new FakeTimeProvider();
        var sampler = new PerformanceSampler(time);

        var first = sampler.Sample(3, messagesIn: 100, messagesOut: 1000, bytesOut: 64000, 0, 0);
        time.Advance(TimeSpan.FromMilliseconds(400));
        var tooSoon = sampler.Sample(3, messagesIn: 150, messagesOut: 1500, bytesOut: 96000, 0, 0);
        time.Advance(TimeSpan.FromMilliseconds(1600));
        var window = sampler.Sample(3, messagesIn: 300, messagesOut: 5000, bytesOut: 320000, 0, 0);
        time.Advance(TimeSpan.FromMilliseconds(500));
        var reused = sampler.Sample(3, messagesIn: 900, messagesOut: 9000, bytesOut: 640000, 0, 0);

        Assert.That(first.RateWindowSeconds, Is.Zero, "no window has ended yet");
        Assert.That(first.MessagesOutPerSecond, Is.Zero);
        Assert.That(tooSoon.RateWindowSeconds, Is.Zero, "a reading 0.4 s after the window began does not end it");
        Assert.That(window.RateWindowSeconds, Is.EqualTo(2.0).Within(1e-9));
        Assert.That(window.MessagesInPerSecond, Is.EqualTo(100.0).Within(1e-9));
        Assert.That(window.MessagesOutPerSecond, Is.EqualTo(2000.0).Within(1e-9));
        Assert.That(window.BytesOutPerSecond, Is.EqualTo(128000.0).Within(1e-9));
        Assert.That(reused.MessagesOutPerSecond, Is.EqualTo(2000.0).Within(1e-9), "readings inside the next window reuse the last rates");
    }
}
