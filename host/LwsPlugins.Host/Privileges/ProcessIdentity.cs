using System.Globalization;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Privileges;

/// <summary>The user and group the process drops to (lws: the context's <c>uid</c> / <c>gid</c>).</summary>
internal sealed record ProcessIdentity(uint? Uid, string? UserName, uint Gid, string GroupName)
{
    /// <summary>
    /// Resolves a user and a group, each a name or a numeric id. Without a group, the user's primary group is used;
    /// without a user, only the group changes.
    /// </summary>
    /// <exception cref="LwsConfigurationException">No such user or group, or no group can be determined.</exception>
    public static ProcessIdentity Resolve(string? user, string? group, IPosixIdentityCalls calls)
    {
        (uint Uid, uint Gid, string Name)? account = null;
        uint? uid = null;
        if (!string.IsNullOrEmpty(user))
        {
            if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                uid = number;
                account = calls.FindUser(null, number);
            }
            else
            {
                account = calls.FindUser(user, null) ?? throw new LwsConfigurationException($"user: there is no user '{user}' on this machine (passwd database).");
                uid = account.Value.Uid;
            }
        }

        if (!string.IsNullOrEmpty(group))
        {
            if (uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return new ProcessIdentity(uid, account?.Name ?? user, gid, calls.FindGroup(null, gid)?.Name ?? group);
            }

            var entry = calls.FindGroup(group, null) ?? throw new LwsConfigurationException($"group: there is no group '{group}' on this machine (group database).");
            return new ProcessIdentity(uid, account?.Name ?? user, entry.Gid, entry.Name);
        }

        if (account is not { } known)
        {
            throw new LwsConfigurationException(
                uid is null ? "user/group: neither is set." : $"group: user id {uid} has no passwd entry, so it has no primary group: give the group too (-g).");
        }

        return new ProcessIdentity(uid, known.Name, known.Gid, calls.FindGroup(null, known.Gid)?.Name ?? known.Gid.ToString(CultureInfo.InvariantCulture));
    }

    public override string ToString()
        => $"{(Uid is { } uid ? $"user '{UserName}' (uid {uid})" : "the same user")} and group '{GroupName}' (gid {Gid})";
}
