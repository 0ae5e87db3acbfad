using System.Text.RegularExpressions;

namespace LwsPlugins.Host.Configuration;

/// <summary>Checks a vhost's options; every error names the vhost and the key.</summary>
internal static partial class VhostOptionsValidator
{
    /// <summary>The vhost's errors; with <paramref name="handshakeTimeoutMs"/> (the engine's), also the checks against the server-wide bounds.</summary>
    public static IReadOnlyList<string> Validate(VhostOptions vhost, int? handshakeTimeoutMs = null)
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

        if (vhost.BindInterface && System.Net.IPAddress.TryParse(vhost.Address, out _))
        {
            Fail("bindInterface", $"needs a network interface name in address (e.g. \"eth0\"), was the IP address '{vhost.Address}'.");
        }

        UnixSocketOptionsCheck.Validate(vhost, Fail);

        if (vhost.Tls is { } tls)
        {
            ValidateTls(tls, Fail);
        }

        // JSON null lands here as a null collection or element: reported, never dereferenced.
        // No protocols (or null) means every loaded plugin's protocols, as lws does for a vhost without pvo.
        var protocols = vhost.Protocols ?? [];
        var mounts = vhost.Mounts ?? [];
        if (vhost.Mounts is null)
        {
            Fail("mounts", "must be an array, not null.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < protocols.Count; i++)
        {
            if (protocols[i] is null)
            {
                Fail($"protocols[{i}]", "must be a protocol name, not null.");
                continue;
            }

            var protocol = protocols[i].Name;
            if (protocols[i].IsAllPlugins)
            {
                if (protocols[i].Options is { } wildcardOptions && wildcardOptions.EnumerateObject().Any())
                {
                    Fail($"protocols.{ProtocolSelection.AllPlugins}", "takes no options ({}): each plugin's protocols get their manifest's defaults; list a protocol by name to give it options.");
                }

                if (!seen.Add(protocol))
                {
                    Fail($"protocols.{protocol}", "is listed twice.");
                }
            }
            else if (!SubprotocolName.IsValid(protocol))
            {
                Fail($"protocols[{i}]", $"'{protocol}' is not a valid WebSocket subprotocol name.");
            }
            else if (!seen.Add(protocol))
            {
                Fail($"protocols.{protocol}", "is listed twice.");
            }
        }

        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i];
            if (mount is null)
            {
                Fail($"mounts[{i}]", "must be an object, not null.");
                continue;
            }

            if (string.IsNullOrEmpty(mount.MountPoint) || mount.MountPoint[0] != '/')
            {
                Fail($"mounts[{i}].mountPoint", $"must start with '/', was '{mount.MountPoint}'.");
            }

            ValidateMount(mount, $"mounts[{i}]", Fail);
            if (mount.CallbackProtocol is { } protocol)
            {
                if (!vhost.ServesAllPlugins && !protocols.Any(p => p?.Name == protocol))
                {
                    Fail($"mounts[{i}].origin", $"'{mount.Origin}' names protocol '{protocol}', which the vhost does not list in its protocols (list it, add \"*\", or leave protocols out to serve every plugin).");
                }
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

        if (vhost.HealthPath is { } health && (health.Length < 2 || health[0] != '/' || health.EndsWith('/')))
        {
            Fail("healthPath", $"must start with '/' and not end with '/', was '{health}'.");
        }

        foreach (var (key, path) in new[] { ("metricsPath", vhost.MetricsPath), ("statusPath", vhost.StatusPath) })
        {
            if (path is not null && (path.Length < 2 || path[0] != '/' || path.EndsWith('/')))
            {
                Fail(key, $"must start with '/' and not end with '/', was '{path}'.");
            }
        }

        if (vhost.MetricsPath is not null && vhost.MetricsPath == vhost.StatusPath)
        {
            Fail("statusPath", $"must differ from metricsPath, both are '{vhost.MetricsPath}'.");
        }

        for (var i = 0; i < (vhost.ObservabilityAllowFrom?.Count ?? 0); i++)
        {
            if (!Diagnostics.Observability.TryParseAllowed(vhost.ObservabilityAllowFrom![i] ?? string.Empty, out _))
            {
                Fail($"observabilityAllowFrom[{i}]", $"must be an IP address or a network such as 10.0.0.0/8, was '{vhost.ObservabilityAllowFrom[i]}'.");
            }
        }

        if (vhost.AccessLog is { } accessLog && string.IsNullOrWhiteSpace(accessLog))
        {
            Fail("accessLog", "must be a file path when set.");
        }

        if (vhost.AccessLogMaxBytes < 0)
        {
            Fail("accessLogMaxBytes", $"must not be negative, was {vhost.AccessLogMaxBytes}.");
        }

        if (vhost.AccessLogKeepFiles < 1)
        {
            Fail("accessLogKeepFiles", $"must be at least 1, was {vhost.AccessLogKeepFiles}.");
        }

        if (vhost.DrainTimeoutMs < 0)
        {
            Fail("drainTimeoutMs", $"must not be negative, was {vhost.DrainTimeoutMs}.");
        }

        if (vhost.ReloadPolicy is { } policy && !Enum.IsDefined(policy))
        {
            Fail("reloadPolicy", $"must be one of {string.Join(", ", Enum.GetNames<PluginReloadPolicy>())}.");
        }

        foreach (var (key, value) in new[]
        {
            ("maxSessions", vhost.MaxSessions), ("maxSessionsPerProtocol", vhost.MaxSessionsPerProtocol), ("maxSessionsPerAddress", vhost.MaxSessionsPerAddress),
            ("handshakesPerSecondPerAddress", vhost.HandshakesPerSecondPerAddress), ("idleTimeoutMs", vhost.IdleTimeoutMs), ("pongTimeoutMs", vhost.PongTimeoutMs),
            ("callbackTimeoutMs", vhost.CallbackTimeoutMs), ("stallTimeoutMs", vhost.StallTimeoutMs),
        })
        {
            if (value < 0)
            {
                Fail(key, $"must not be negative (0 means no limit), was {value}.");
            }
        }

        if (vhost.PongTimeoutMs > 0 && vhost.PingIntervalMs == 0)
        {
            Fail("pongTimeoutMs", "needs pingIntervalMs: a pong is only awaited after a ping.");
        }

        if (vhost.KeepAliveTimeoutMs < 0)
        {
            Fail("keepAliveTimeoutMs", $"must not be negative (0 leaves idle connections to the server-wide handshakeTimeoutMs), was {vhost.KeepAliveTimeoutMs}.");
        }
        else if (vhost.KeepAliveTimeoutMs > handshakeTimeoutMs)
        {
            // Kestrel's own keep-alive bound is server-wide (one server for every listener) and closes the connection first.
            Fail("keepAliveTimeoutMs", $"{vhost.KeepAliveTimeoutMs} is longer than the server's handshakeTimeoutMs ({handshakeTimeoutMs}), which closes every idle connection first: lower it, or raise handshakeTimeoutMs.");
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

    private static void ValidateTls(VhostTlsOptions tls, Action<string, string> fail)
    {
        if (tls.ServerCertificate is null)
        {
            if (string.IsNullOrWhiteSpace(tls.Certificate))
            {
                fail("tls.certificate", "is required (a PEM file with the server certificate).");
            }

            if (string.IsNullOrWhiteSpace(tls.Key))
            {
                fail("tls.key", "is required (a PEM file with the certificate's private key).");
            }
        }
        else if (!tls.ServerCertificate.HasPrivateKey)
        {
            fail("tls.serverCertificate", "has no private key.");
        }

        if (!Enum.IsDefined(tls.ClientCertificate))
        {
            fail("tls.clientCertificate", $"must be one of {string.Join(", ", Enum.GetNames<TlsClientCertificateMode>())}.");
        }

        if (tls.Ca is { } ca && string.IsNullOrWhiteSpace(ca))
        {
            fail("tls.ca", "must be a PEM file path when set.");
        }
        else if (tls.Ca is not null && tls.ClientCertificate == TlsClientCertificateMode.None)
        {
            fail("tls.ca", "is only used to check client certificates: set clientCertificate to \"optional\" or \"required\".");
        }

        if (tls.RedirectHttpPort is { } port && port is < 0 or > 65535)
        {
            fail("tls.redirectHttpPort", $"must be between 0 and 65535, was {port}.");
        }
    }

    private static void ValidateMount(MountOptions mount, string key, Action<string, string> fail)
    {
        var isRedirect = mount.Redirect is not null;
        if (isRedirect)
        {
            if (!string.IsNullOrEmpty(mount.Origin))
            {
                fail($"{key}.origin", "must not be set with redirect (a mount serves files or redirects, not both).");
            }

            if (!Uri.TryCreate(mount.Redirect, UriKind.Absolute, out var target) && !(mount.Redirect!.StartsWith('/') && Uri.TryCreate(mount.Redirect, UriKind.Relative, out target)))
            {
                fail($"{key}.redirect", $"must be an absolute URL or a path starting with '/', was '{mount.Redirect}'.");
            }
            else if (mount.Redirect!.Any(char.IsControl))
            {
                fail($"{key}.redirect", "must not contain control characters.");
            }

            if (mount.RedirectStatus is not (301 or 302))
            {
                fail($"{key}.redirectStatus", $"must be 301 or 302, was {mount.RedirectStatus}.");
            }
        }
        else if (string.IsNullOrWhiteSpace(mount.Origin))
        {
            fail($"{key}.origin", "is required (the folder to serve, file://<vfs path>, or set redirect).");
        }
        else if (mount.Origin.StartsWith("file://", StringComparison.Ordinal) && mount.Origin.Length == "file://".Length)
        {
            fail($"{key}.origin", "file:// needs a VFS path, e.g. file:///bundle.");
        }

        if (mount.CacheControl is { } cacheControl && (string.IsNullOrWhiteSpace(cacheControl) || cacheControl.Any(char.IsControl)))
        {
            fail($"{key}.cacheControl", "must be a header value (not empty, no control characters) when set.");
        }

        if (mount.DefaultDocuments is null)
        {
            fail($"{key}.defaultDocuments", "must be an array, not null.");
        }

        if (mount.MimeTypes is null)
        {
            fail($"{key}.mimeTypes", "must be an object, not null.");
            return;
        }

        foreach (var (extension, type) in mount.MimeTypes)
        {
            if (extension.Length < 2 || extension[0] != '.' || extension.IndexOfAny(['/', '\\', '.'], 1) >= 0)
            {
                fail($"{key}.mimeTypes.{extension}", "must be an extension starting with '.', e.g. \".wasm\".");
            }
            else if (string.IsNullOrWhiteSpace(type) || !type.Contains('/', StringComparison.Ordinal) || type.Any(char.IsControl))
            {
                fail($"{key}.mimeTypes.{extension}", $"must be a MIME type such as \"application/wasm\", was '{type}'.");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")]
    private static partial Regex HostNamePattern();
}
