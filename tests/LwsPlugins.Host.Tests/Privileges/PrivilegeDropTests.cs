using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Privileges;
using Moq;

namespace LwsPlugins.Host.Tests.Privileges;

/// <summary>The order of the calls and the messages of a privilege drop, over a fake libc.</summary>
[TestFixture]
public sealed class PrivilegeDropTests
{
    private const int Eperm = 1;
    private Mock<IPosixIdentityCalls> _calls = null!;
    private List<string> _made = null!;

    [SetUp]
    public void FakeLibc()
    {
        _made = [];
        _calls = new Mock<IPosixIdentityCalls>(MockBehavior.Strict);
        _calls.Setup(c => c.FindUser("www", null)).Returns((33u, 34u, "www"));
        _calls.Setup(c => c.FindUser(null, 33u)).Returns((33u, 34u, "www"));
        _calls.Setup(c => c.FindUser(null, 4242u)).Returns(((uint, uint, string)?)null);
        _calls.Setup(c => c.FindUser("ghost", null)).Returns(((uint, uint, string)?)null);
        _calls.Setup(c => c.FindGroup(null, 34u)).Returns((34u, "www-data"));
        _calls.Setup(c => c.FindGroup("staff", null)).Returns((50u, "staff"));
        _calls.Setup(c => c.FindGroup("ghosts", null)).Returns(((uint, string)?)null);
        _calls.Setup(c => c.SetGroups(It.IsAny<uint[]>())).Returns(0).Callback((uint[] g) => _made.Add($"setgroups({string.Join(",", g)})"));
        _calls.Setup(c => c.SetGid(It.IsAny<uint>())).Returns(0).Callback((uint g) => _made.Add($"setgid({g})"));
        _calls.Setup(c => c.SetUid(It.IsAny<uint>())).Returns(0).Callback((uint u) => _made.Add($"setuid({u})"));
    }

    [Test]
    public void UserByName_DropsGroupsThenGroupThenUser_ToTheUsersPrimaryGroup()
    {
        var identity = ProcessIdentity.Resolve("www", null, _calls.Object);
        PrivilegeDrop.Apply(identity, _calls.Object);

        Assert.That(_made, Is.EqualTo(new[] { "setgroups(34)", "setgid(34)", "setuid(33)" }));
        Assert.That(identity.ToString(), Is.EqualTo("user 'www' (uid 33) and group 'www-data' (gid 34)"));
    }

    [Test]
    public void UserAndGroupByNumber_UseTheNumbers()
    {
        PrivilegeDrop.Apply(ProcessIdentity.Resolve("4242", "4343", _calls.Object.WithNoGroup(4343)), _calls.Object);

        Assert.That(_made, Is.EqualTo(new[] { "setgroups(4343)", "setgid(4343)", "setuid(4242)" }));
    }

    [Test]
    public void GroupAlone_ChangesOnlyTheGroup()
    {
        PrivilegeDrop.Apply(ProcessIdentity.Resolve(null, "staff", _calls.Object), _calls.Object);

        Assert.That(_made, Is.EqualTo(new[] { "setgroups(50)", "setgid(50)" }));
    }

    [Test]
    public void SetUidFailure_IsFatalAndNamesTheCallTheIdsAndTheReason()
    {
        _calls.Setup(c => c.SetUid(33u)).Returns(Eperm);

        var error = Assert.Throws<PrivilegeDropException>(() => PrivilegeDrop.Apply(ProcessIdentity.Resolve("www", "staff", _calls.Object), _calls.Object))!;

        Assert.That(error.Message, Does.StartWith("cannot drop privileges to user 'www' (uid 33) and group 'staff' (gid 50): setuid(33) failed: "));
        Assert.That(error.Message, Does.Contain("EPERM: only a process started as root"));
    }

    [Test]
    public void SetGroupsFailure_StopsBeforeTheGroupAndUserChange()
    {
        _calls.Setup(c => c.SetGroups(It.IsAny<uint[]>())).Returns(Eperm);

        var error = Assert.Throws<PrivilegeDropException>(() => PrivilegeDrop.Apply(ProcessIdentity.Resolve("www", null, _calls.Object), _calls.Object))!;

        Assert.That(error.Message, Does.Contain("setgroups([34]) failed"));
        _calls.Verify(c => c.SetGid(It.IsAny<uint>()), Times.Never);
        _calls.Verify(c => c.SetUid(It.IsAny<uint>()), Times.Never);
    }

    [Test]
    public void UnknownUser_NamesIt()
        => Assert.That(
            Assert.Throws<LwsConfigurationException>(() => ProcessIdentity.Resolve("ghost", null, _calls.Object))!.Message,
            Is.EqualTo("user: there is no user 'ghost' on this machine (passwd database)."));

    [Test]
    public void UnknownGroup_NamesIt()
        => Assert.That(
            Assert.Throws<LwsConfigurationException>(() => ProcessIdentity.Resolve("www", "ghosts", _calls.Object))!.Message,
            Is.EqualTo("group: there is no group 'ghosts' on this machine (group database)."));

    [Test]
    public void NumericUserWithoutPasswdEntryOrGroup_AsksForTheGroup()
        => Assert.That(
            Assert.Throws<LwsConfigurationException>(() => ProcessIdentity.Resolve("4242", null, _calls.Object))!.Message,
            Does.StartWith("group: user id 4242 has no passwd entry"));

    [Test]
    public void DroppingTwice_IsRefused()
    {
        var privileges = new ContextPrivileges(_calls.Object);
        privileges.Drop("www", null);

        Assert.That(() => privileges.Drop("www", null), Throws.InvalidOperationException.With.Message.Contains("dropped already"));
        Assert.That(privileges.DroppedTo!.Uid, Is.EqualTo(33u));
    }
}

internal static class FakeLibcExtensions
{
    /// <summary>Lets the strict fake answer "no such group" for a numeric gid.</summary>
    public static IPosixIdentityCalls WithNoGroup(this IPosixIdentityCalls calls, uint gid)
    {
        Mock.Get(calls).Setup(c => c.FindGroup(null, gid)).Returns(((uint, string)?)null);
        return calls;
    }
}
