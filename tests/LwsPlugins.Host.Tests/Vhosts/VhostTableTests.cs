using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Vhosts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Vhosts;

[TestFixture]
public sealed class VhostTableTests
{
    private LwsMetrics _metrics = null!;

    [SetUp]
    public void Create() => _metrics = new LwsMetrics(null);

    [TearDown]
    public void Dispose() => _metrics.Dispose();

    private Vhost NewVhost(string name)
        => new(new VhostOptions { Name = name, Port = 0 }, IPAddress.Loopback, [], null, new FakeTimeProvider(), NullLoggerFactory.Instance, _metrics, () => { });

    [Test]
    public void AVhostMovesFromServingToDestroyingToGone_AndASnapshotTakenBeforeNeverChanges()
    {
        var table = new VhostTable();
        var a = NewVhost("a");
        var b = NewVhost("b");
        table.Add(a);
        table.Add(b);
        var before = table.Current;

        table.Unlist(a);

        Assert.That(before.Serving, Is.EqualTo(new[] { a, b }), "an old snapshot is immutable");
        Assert.That(table.Serving, Is.EqualTo(new[] { b }));
        Assert.That(table.Current.Destroying, Is.EqualTo(new[] { a }));
        Assert.That(table.Find("A"), Is.Null, "a vhost being destroyed is not found by name");
        Assert.That(table.All, Is.EquivalentTo(new[] { a, b }));
        Assert.That(table.Forget(a), Is.True);
        Assert.That(table.Forget(a), Is.False, "freed once");
        Assert.That(table.All, Is.EqualTo(new[] { b }));
    }

    [Test]
    public void Swap_PutsTheNewVhostInTheOldOnesPlace_AndTheOldOneAmongTheDestroyed()
    {
        var table = new VhostTable();
        var a = NewVhost("a");
        var b = NewVhost("b");
        var c = NewVhost("c");
        table.Add(a);
        table.Add(b);
        table.Add(c);
        var newB = NewVhost("b");

        table.Swap(b, newB);

        Assert.That(table.Serving, Is.EqualTo(new[] { a, newB, c }), "creation order kept");
        Assert.That(table.Find("b"), Is.SameAs(newB));
        Assert.That(table.Current.Destroying, Is.EqualTo(new[] { b }));
    }
}
