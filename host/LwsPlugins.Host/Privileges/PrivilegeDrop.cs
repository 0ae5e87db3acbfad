using System.Runtime.InteropServices;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Privileges;

/// <summary>
/// Drops the process from root to another user and group once the start-up listen sockets are bound: supplementary
/// groups, then the group, then the user, in that order (after setuid, setgid would no longer be allowed). Any failure
/// throws: a server that meant to drop its privileges must not carry on as root.
/// </summary>
internal static class PrivilegeDrop
{
    /// <exception cref="PrivilegeDropException">A call failed; the message names it, the ids and the reason.</exception>
    public static void Apply(ProcessIdentity identity, IPosixIdentityCalls calls)
    {
        Check(calls.SetGroups([identity.Gid]), $"setgroups([{identity.Gid}])", identity);
        Check(calls.SetGid(identity.Gid), $"setgid({identity.Gid})", identity);
        if (identity.Uid is { } uid)
        {
            Check(calls.SetUid(uid), $"setuid({uid})", identity);
        }
    }

    private static void Check(int errno, string call, ProcessIdentity identity)
    {
        if (errno == 0)
        {
            return;
        }

        var hint = errno == 1 ? " (EPERM: only a process started as root can change its user and group)" : "";
        throw new PrivilegeDropException($"cannot drop privileges to {identity}: {call} failed: {Marshal.GetPInvokeErrorMessage(errno)}{hint}.");
    }
}
