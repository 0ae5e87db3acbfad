using System.Runtime.InteropServices;

namespace LwsPlugins.Host.Privileges;

/// <summary>
/// The real calls, through glibc: its <c>setgroups</c>, <c>setgid</c> and <c>setuid</c> wrappers change the credentials of
/// every thread of the process (POSIX semantics, via glibc's SIGSETXID broadcast), not only the calling one.
/// </summary>
internal sealed partial class LibcIdentityCalls : IPosixIdentityCalls
{
    public static readonly LibcIdentityCalls Instance = new();

    private LibcIdentityCalls()
    {
    }

    public int SetGroups(uint[] groups) => setgroups((nuint)groups.Length, groups) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public int SetGid(uint gid) => setgid(gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public int SetUid(uint uid) => setuid(uid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public (uint Uid, uint Gid, string Name)? FindUser(string? name, uint? uid)
    {
        // struct passwd (glibc, 64-bit): char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ...
        var entry = name is not null ? getpwnam(name) : getpwuid(uid!.Value);
        if (entry == IntPtr.Zero)
        {
            return null;
        }

        var offset = 2 * IntPtr.Size;
        return ((uint)Marshal.ReadInt32(entry, offset), (uint)Marshal.ReadInt32(entry, offset + 4), Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(entry)) ?? "");
    }

    public (uint Gid, string Name)? FindGroup(string? name, uint? gid)
    {
        // struct group (glibc, 64-bit): char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem;
        var entry = name is not null ? getgrnam(name) : getgrgid(gid!.Value);
        if (entry == IntPtr.Zero)
        {
            return null;
        }

        return ((uint)Marshal.ReadInt32(entry, 2 * IntPtr.Size), Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(entry)) ?? "");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setgroups(nuint size, uint[] list);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setgid(uint gid);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setuid(uint uid);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getpwnam(string name);

    [LibraryImport("libc")]
    private static partial IntPtr getpwuid(uint uid);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getgrnam(string name);

    [LibraryImport("libc")]
    private static partial IntPtr getgrgid(uint gid);
}
