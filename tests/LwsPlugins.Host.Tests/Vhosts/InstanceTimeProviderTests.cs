using LwsPlugins.Host.Vhosts;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Vhosts;

[TestFixture]
public sealed class InstanceTimeProviderTests
{
    [Test]
    public async Task TimersAPluginForgot_StopWhenTheInstanceIsDisposed()
    {
        var fake = new FakeTimeProvider();
        var provider = new InstanceTimeProvider(fake);
        var ticks = 0;
        _ = provider.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        fake.Advance(TimeSpan.FromSeconds(2));
        Assert.That(ticks, Is.EqualTo(2));

        await provider.DisposeAsync();
        fake.Advance(TimeSpan.FromSeconds(5));

        Assert.That(ticks, Is.EqualTo(2));
    }

    [Test]
    public async Task CreatingATimerAfterDisposal_Throws()
    {
        var provider = new InstanceTimeProvider(new FakeTimeProvider());
        await provider.DisposeAsync();

        Assert.That(() => provider.CreateTimer(_ => { }, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void Clock_IsTheInnerClock()
    {
        var fake = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(3));
        var provider = new InstanceTimeProvider(fake);

        Assert.That(provider.GetUtcNow(), Is.EqualTo(fake.GetUtcNow()));
        Assert.That(provider.GetTimestamp(), Is.EqualTo(fake.GetTimestamp()));
    }
}
