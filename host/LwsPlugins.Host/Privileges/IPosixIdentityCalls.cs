namespace LwsPlugins.Host.Privileges;

/// <summary>The libc calls a privilege drop makes; each returns 0 or an errno. A seam so the order and the failure messages can be unit tested.</summary>
internal interface IPosixIdentityCalls
{
    int SetGroups(uint[] groups);

    int SetGid(uint gid);

    int SetUid(uint uid);

    /// <summary>A user's uid and primary gid by name or by uid, or <see langword="null"/> when the passwd database has no such user.</summary>
    (uint Uid, uint Gid, string Name)? FindUser(string? name, uint? uid);

    /// <summary>A group's gid by name or by gid, or <see langword="null"/> when the group database has no such group.</summary>
    (uint Gid, string Name)? FindGroup(string? name, uint? gid);
}
