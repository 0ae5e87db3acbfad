namespace LwsPlugins.Host.Privileges;

/// <summary>The context's record of its privilege drop: done at most once, and consulted before a new listen socket is opened.</summary>
internal sealed class ContextPrivileges(IPosixIdentityCalls? calls = null)
{
    private readonly IPosixIdentityCalls _calls = calls ?? LibcIdentityCalls.Instance;

    /// <summary>Who the process dropped to, or <see langword="null"/> while it has not.</summary>
    public ProcessIdentity? DroppedTo { get; private set; }

    public ProcessIdentity Drop(string? user, string? group)
    {
        if (DroppedTo is not null)
        {
            throw new InvalidOperationException($"privileges were dropped already, to {DroppedTo}.");
        }

        var identity = ProcessIdentity.Resolve(user, group, _calls);
        PrivilegeDrop.Apply(identity, _calls);
        DroppedTo = identity;
        return identity;
    }
}
