using System.Text.RegularExpressions;

namespace LwsPlugins.Host.Configuration;

/// <summary>Checks a vhost's options; every error names the vhost and the key.</summary>
internal static partial class VhostOptionsValidator
{
    public static IReadOnlyList<string> Validate(VhostOptions vhost)
    {
        var errors = new List<string>();
        var name = string.IsNullOrEmpty(vhost.Name) ? "(unnamed)" : vhost.Name;
        void Fail(string key, string reason) => errors.Add($"vhost '{name}': {key}: {reason}");

        if (string.IsNullOrWhiteSpace(vhost.Name))
        {
            Fail("name", "is required.");
        }
        else if (!HostNamePattern().IsMatch(vhost.Name))
        {
            Fail("name", $"'{vhost.Name}' is not a valid host name (letters, digits, '-', '.', '_').");
        }

        if (string.IsNullOrWhiteSpace(vhost.Address))
        {
            Fail("address", "is required (an IP address or an interface name).");
        }

        if (vhost.Port is < 0 or > 65535)
        {
            Fail("port", $"must be between 0 and 65535, was {vhost.Port}.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < vhost.Protocols.Count; i++)
        {
            var protocol = vhost.Protocols[i].Name;
            if (!SubprotocolName.IsValid(protocol))
            {
                Fail($"protocols[{i}]", $"'{protocol}' is not a valid WebSocket subprotocol name.");
            }
            else if (!seen.Add(protocol))
            {
                Fail($"protocols.{protocol}", "is listed twice.");
            }
        }

        for (var i = 0; i < vhost.Mounts.Count; i++)
        {
            var mount = vhost.Mounts[i];
            if (string.IsNullOrEmpty(mount.MountPoint) || mount.MountPoint[0] != '/')
            {
                Fail($"mounts[{i}].mountPoint", $"must start with '/', was '{mount.MountPoint}'.");
            }

            if (string.IsNullOrWhiteSpace(mount.Origin))
            {
                Fail($"mounts[{i}].origin", "is required (the folder to serve).");
            }
        }

        if (vhost.MaxMessageSize < 1)
        {
            Fail("maxMessageSize", $"must be at least 1, was {vhost.MaxMessageSize}.");
        }

        if (vhost.SendQueueLimit < 1)
        {
            Fail("sendQueueLimit", $"must be at least 1, was {vhost.SendQueueLimit}.");
        }

        if (vhost.CloseTimeoutMs < 1)
        {
            Fail("closeTimeoutMs", $"must be at least 1, was {vhost.CloseTimeoutMs}.");
        }

        if (vhost.PingIntervalMs < 0)
        {
            Fail("pingIntervalMs", $"must not be negative, was {vhost.PingIntervalMs}.");
        }

        if (!Enum.IsDefined(vhost.SlowConsumerPolicy))
        {
            Fail("slowConsumerPolicy", $"must be one of {string.Join(", ", Enum.GetNames<SlowConsumerPolicy>())}.");
        }

        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")]
    private static partial Regex HostNamePattern();
}
