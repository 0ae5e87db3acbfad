using System.Globalization;

namespace LwsPlugins.Host.Privileges;

/// <summary>The first port an unprivileged process may bind (Linux: <c>net.ipv4.ip_unprivileged_port_start</c>, 1024 by default).</summary>
internal static class PrivilegedPorts
{
    private static readonly Lazy<int> s_start = new(() =>
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 1024;
        }
    });

    public static int UnprivilegedPortStart => s_start.Value;
}
