using System.Text;

namespace LwsPlugins.Host.Configuration;

/// <summary>Checks a vhost's Unix domain socket keys (<c>unixSocket</c>, <c>unixSocketMode</c>, <c>unixSocketOwner</c>).</summary>
internal static class UnixSocketOptionsCheck
{
    /// <summary>The kernel's limit on a socket path (<c>sun_path</c> is 108 bytes with its terminating zero).</summary>
    public const int MaxPathBytes = 107;

    public static void Validate(VhostOptions vhost, Action<string, string> fail)
    {
        if (vhost.UnixSocket is not { } path)
        {
            if (vhost.UnixSocketMode is not null || vhost.UnixSocketOwner is not null)
            {
                fail(vhost.UnixSocketMode is not null ? "unixSocketMode" : "unixSocketOwner", "applies to a Unix socket only: set unixSocket too.");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            fail("unixSocket", "must be a file path when set.");
            return;
        }

        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            fail("unixSocket", "Unix domain socket listeners need a Unix-like system.");
        }

        // The full path is what the kernel sees; a relative one is resolved against the server's folder later, so the
        // limit is checked again there (see UnixSocketFile).
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            fail("unixSocket", $"'{path}' is longer than the {MaxPathBytes} bytes a socket path may have.");
        }

        if (vhost.UnixSocketMode is { } mode && !TryParseMode(mode, out _))
        {
            fail("unixSocketMode", $"'{mode}' is not octal permission bits between 0000 and 0777 (e.g. \"0660\").");
        }

        if (vhost.UnixSocketOwner is { } owner && (owner.Length == 0 || owner == ":" || owner.Count(c => c == ':') > 1))
        {
            fail("unixSocketOwner", $"'{owner}' is not 'user', 'user:group' or ':group'.");
        }

        if (vhost.BindInterface)
        {
            fail("bindInterface", "does not apply to a Unix socket (unixSocket is set).");
        }

        if (vhost.Tls?.RedirectHttpPort is not null)
        {
            fail("tls.redirectHttpPort", "does not apply to a Unix socket (unixSocket is set): a redirect needs a TCP port.");
        }
    }

    /// <summary>Octal permission bits, with or without a leading 0: "660", "0660".</summary>
    public static bool TryParseMode(string text, out UnixFileMode mode)
    {
        mode = default;
        if (text.Length is 0 or > 4 || text.Any(c => c is < '0' or > '7'))
        {
            return false;
        }

        var bits = 0;
        foreach (var c in text)
        {
            bits = (bits * 8) + (c - '0');
        }

        if (bits > 0x1FF)
        {
            return false;
        }

        mode = (UnixFileMode)bits;
        return true;
    }
}
