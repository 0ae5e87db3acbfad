using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Privileges;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The file of a Unix domain socket listener (lws: <c>unix-socket</c>, the test server's <c>-U</c>): a socket file left
/// by a process that is gone is replaced, one a live process listens on is not (it is tried with a connect first), and
/// the file gets the configured mode and owner right after the bind, while the process may still be root.
/// </summary>
internal static partial class UnixSocketFile
{
    /// <summary>Binds a listen socket on <paramref name="endPoint"/>; the message of every refusal names the vhost, the key and the path.</summary>
    /// <exception cref="LwsConfigurationException">The path is in use, not a socket, too long, or mode/owner cannot be applied.</exception>
    public static Socket Bind(UnixDomainSocketEndPoint endPoint, string vhost, string? mode, string? owner)
    {
        var path = endPoint.ToString();
        if (Encoding.UTF8.GetByteCount(path) > UnixSocketOptionsCheck.MaxPathBytes)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': unixSocket: '{path}' is longer than the {UnixSocketOptionsCheck.MaxPathBytes} bytes a socket path may have.");
        }

        ReplaceStale(path, vhost);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(endPoint);
            Apply(path, vhost, mode, owner);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new LwsConfigurationException($"vhost '{vhost}': unixSocket: cannot listen on '{path}': {ex.Message} ({ex.SocketErrorCode}).", ex);
        }
        catch
        {
            socket.Dispose();
            Remove(path);
            throw;
        }
    }

    /// <summary>Removes the socket file once its listener has stopped (a file that is no longer a socket is left alone).</summary>
    public static void Remove(string path)
    {
        try
        {
            if (IsSocket(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Gone already, or its folder is; nothing is left to remove.
        }
        catch (UnauthorizedAccessException)
        {
            // After a privilege drop the folder may no longer be writable; the next start replaces the stale file.
        }
    }

    private static void ReplaceStale(string path, string vhost)
    {
        if (FileMode(path) is null)
        {
            return;
        }

        if (!IsSocket(path))
        {
            throw new LwsConfigurationException($"vhost '{vhost}': unixSocket: '{path}' exists and is not a socket; it is left alone.");
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new LwsConfigurationException($"vhost '{vhost}': unixSocket: another process listens on '{path}'.");
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // Nobody listens: the file is left by a process that is gone.
            }
        }

        File.Delete(path);
    }

    private static bool IsSocket(string path) => FileMode(path) is { } mode && (mode & 0xF000) == 0xC000;

    private static void Apply(string path, string vhost, string? mode, string? owner)
    {
        if (mode is not null && UnixSocketOptionsCheck.TryParseMode(mode, out var bits) && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, bits);
        }

        if (owner is null)
        {
            return;
        }

        var separator = owner.IndexOf(':', StringComparison.Ordinal);
        var user = separator < 0 ? owner : owner[..separator];
        var group = separator < 0 ? null : owner[(separator + 1)..];
        var uid = user.Length == 0 ? uint.MaxValue : ResolveUser(user, vhost);
        var gid = string.IsNullOrEmpty(group) ? uint.MaxValue : ResolveGroup(group, vhost);
        if (chown(path, uid, gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new LwsConfigurationException(
                $"vhost '{vhost}': unixSocketOwner: cannot give '{path}' to '{owner}': {Marshal.GetPInvokeErrorMessage(errno)}{(errno == 1 ? " (changing a file's owner needs root: the server must start as root)" : "")}.");
        }
    }

    private static uint ResolveUser(string user, string vhost)
        => uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid
            : LibcIdentityCalls.Instance.FindUser(user, null)?.Uid
              ?? throw new LwsConfigurationException($"vhost '{vhost}': unixSocketOwner: there is no user '{user}' on this machine (passwd database).");

    private static uint ResolveGroup(string group, string vhost)
        => uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid) ? gid
            : LibcIdentityCalls.Instance.FindGroup(group, null)?.Gid
              ?? throw new LwsConfigurationException($"vhost '{vhost}': unixSocketOwner: there is no group '{group}' on this machine (group database).");

    private static int? FileMode(string path)
    {
        // FileSystemInfo has no file type for sockets. statx has one layout on every architecture; only stx_mode (at byte
        // 28) is read, without following a symbolic link.
        Span<byte> buffer = stackalloc byte[256];
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint StatxType = 0x1;
        unsafe
        {
            fixed (byte* b = buffer)
            {
                if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, b) != 0)
                {
                    return null;
                }
            }
        }

        return BitConverter.ToUInt16(buffer[28..30]);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
