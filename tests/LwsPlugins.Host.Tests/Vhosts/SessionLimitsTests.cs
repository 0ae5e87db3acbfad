using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Vhosts;

namespace LwsPlugins.Host.Tests.Vhosts;

/// <summary>Admission of WebSocket handshakes against a vhost's session limits; only configured limits are counted.</summary>
[TestFixture]
public sealed class SessionLimitsTests
{
    private static readonly IPAddress Client = IPAddress.Parse("127.0.0.7");
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.8");

    [Test]
    public void Reconfigure_AppliesTheNewLimit_ToSessionsAlreadyAdmitted_AndTheirReleaseStaysTrue()
    {
        using var limits = new SessionLimits(new VhostOptions { Name = "v", MaxSessions = 3 });
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out var first), Is.Null);
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out _), Is.Null);

        limits.Reconfigure(new VhostOptions { Name = "v", MaxSessions = 2 });
        var overTheNewLimit = limits.TryAdmit(VhostProtocol.None, Client, out _);
        first!.Dispose();
        var afterRelease = limits.TryAdmit(VhostProtocol.None, Client, out _);

        Assert.That(overTheNewLimit?.Status, Is.EqualTo(503), "the two kept sessions count against the lowered limit");
        Assert.That(afterRelease, Is.Null, "a session admitted before the change releases its slot");
    }

    [Test]
    public void Reconfigure_ToAHandshakeRate_LimitsFromThenOn()
    {
        using var limits = new SessionLimits(new VhostOptions { Name = "v" });
        limits.Reconfigure(new VhostOptions { Name = "v", HandshakesPerSecondPerAddress = 1 });

        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out _), Is.Null);
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out _)?.Status, Is.EqualTo(429));
    }

    [Test]
    public void NoLimitSet_AdmitsWithoutAnAdmissionToHold()
    {
        using var limits = new SessionLimits(new VhostOptions { Name = "v" });

        var problems = Enumerable.Range(0, 100).Select(_ => limits.TryAdmit(VhostProtocol.None, Client, out var admission) ?? (object?)admission).ToList();

        Assert.That(problems, Is.All.Null);
    }

    [Test]
    public void PerAddressLimit_CountsEachAddress_AndReleasesOnDispose()
    {
        using var limits = new SessionLimits(new VhostOptions { Name = "v", MaxSessionsPerAddress = 2 });
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out var first), Is.Null);
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out var second), Is.Null);

        var third = limits.TryAdmit(VhostProtocol.None, Client, out var refused);
        var other = limits.TryAdmit(VhostProtocol.None, OtherClient, out var otherAdmission);
        first!.Dispose();
        first.Dispose();
        var afterRelease = limits.TryAdmit(VhostProtocol.None, Client, out var fourth);
        var full = limits.TryAdmit(VhostProtocol.None, Client, out _);

        Assert.Multiple(() =>
        {
            Assert.That(third, Is.Not.Null);
            Assert.That(third!.Status, Is.EqualTo(429));
            Assert.That(third.Reason, Does.Contain("127.0.0.7 holds its maximum of 2 sessions on vhost 'v'"));
            Assert.That(refused, Is.Null);
            Assert.That(other, Is.Null);
            Assert.That(otherAdmission, Is.Not.Null);
            Assert.That(afterRelease, Is.Null, "a disposed admission frees its slot, once");
            Assert.That(full, Is.Not.Null, "a second dispose of the same admission frees nothing more");
        });
        second!.Dispose();
        fourth!.Dispose();
        otherAdmission!.Dispose();
    }

    [Test]
    public void VhostLimit_CountsEverySession()
    {
        using var limits = new SessionLimits(new VhostOptions { Name = "v", MaxSessions = 1 });
        Assert.That(limits.TryAdmit(VhostProtocol.None, Client, out var first), Is.Null);

        var second = limits.TryAdmit(VhostProtocol.None, OtherClient, out _);
        first!.Dispose();
        var afterRelease = limits.TryAdmit(VhostProtocol.None, OtherClient, out var third);

        Assert.That(second?.Status, Is.EqualTo(503));
        Assert.That(afterRelease, Is.Null);
        third!.Dispose();
    }
}
