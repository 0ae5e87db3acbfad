using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server.Lwsws;

/// <summary>
/// Reads lwsws's configuration format (libwebsockets' <c>lwsws</c>: <c>/etc/lwsws/conf</c> with <c>global</c>,
/// <c>conf.d/*</c> with <c>vhosts</c>; every value a string) and translates it onto our option types. A pure
/// translation: nothing is created or validated here beyond the format; the engine validates the result as it does a
/// JSON configuration, so errors read the same. Keys with no equivalent are returned, never dropped silently.
/// </summary>
internal static class LwswsTranslator
{
    private static readonly JsonDocumentOptions s_json = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    // lwsws keys that are accepted and need nothing here: TLS is always available (init-ssl), threads are the runtime's.
    private static readonly HashSet<string> s_globalNoOps = ["init-ssl", "count-threads"];

    /// <summary>Translates one lwsws file; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="LwsConfigurationException">The text is not JSON, or a key has the wrong shape; the message names the file and the key.</exception>
    public static LwswsFile Parse(string text, string source)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: s_json);
        }
        catch (JsonException ex)
        {
            // The parser's message ends with its own position ("LineNumber: 2 | BytePositionInLine: 5."): the line is said once, counted from 1.
            var reason = ex.Message.Split(" LineNumber:", 2)[0].TrimEnd(' ', '.');
            throw new LwsConfigurationException($"{source}, line {(ex.LineNumber ?? 0) + 1}: not valid lwsws JSON: {reason}.", ex);
        }

        if (root is not JsonObject top)
        {
            throw new LwsConfigurationException($"{source}: an lwsws file holds one JSON object (with \"global\" and/or \"vhosts\").");
        }

        var unsupported = new List<string>();
        LwswsGlobal? global = null;
        var vhosts = new List<VhostOptions>();
        foreach (var (key, value) in top)
        {
            switch (key)
            {
                case "global":
                    global = Global(Object(value, source, key), source, unsupported);
                    break;
                case "vhosts":
                    var list = value as JsonArray ?? throw new LwsConfigurationException($"{source}: vhosts: must be an array of vhost objects.");
                    for (var i = 0; i < list.Count; i++)
                    {
                        vhosts.Add(Vhost(Object(list[i], source, $"vhosts[{i}]"), source, $"vhosts[{i}]", unsupported));
                    }

                    break;
                default:
                    unsupported.Add($"{source}: {key}");
                    break;
            }
        }

        return new LwswsFile(vhosts, global, unsupported);
    }

    private static LwswsGlobal Global(JsonObject global, string source, List<string> unsupported)
    {
        string? user = null, group = null, pluginDir = null;
        foreach (var (key, value) in global)
        {
            switch (key)
            {
                case "uid":
                    user = Text(value, source, "global.uid");
                    break;
                case "gid":
                    group = Text(value, source, "global.gid");
                    break;
                case "plugin-dir":
                    pluginDir = Text(value, source, "global.plugin-dir");
                    break;
                case var noOp when s_globalNoOps.Contains(noOp):
                    break;
                default:
                    unsupported.Add($"{source}: global.{key}");
                    break;
            }
        }

        return new LwswsGlobal(user, group, pluginDir);
    }

    private static VhostOptions Vhost(JsonObject vhost, string source, string at, List<string> unsupported)
    {
        // lws listens on every interface unless one is named.
        var options = new VhostOptions { Address = "0.0.0.0" };
        string? unixSocket = null, iface = null;
        VhostTlsOptions? tls = null;
        VhostTlsOptions Tls() => tls ??= new VhostTlsOptions();
        foreach (var (key, value) in vhost)
        {
            var where = $"{at}.{key}";
            switch (key)
            {
                case "name":
                    options.Name = Text(value, source, where);
                    break;
                case "port":
                    options.Port = Integer(value, source, where);
                    break;
                case "interface":
                    iface = Text(value, source, where);
                    break;
                case "unix-socket":
                    unixSocket = Text(value, source, where);
                    break;
                case "unix-socket-perms":
                    options.UnixSocketOwner = Text(value, source, where);
                    break;
                case "host-ssl-cert":
                    Tls().Certificate = Text(value, source, where);
                    break;
                case "host-ssl-key":
                    Tls().Key = Text(value, source, where);
                    break;
                case "host-ssl-ca":
                    // lws loads it to verify the certificates clients present; a client without one still connects.
                    Tls().Ca = Text(value, source, where);
                    Tls().ClientCertificate = TlsClientCertificateMode.Optional;
                    break;
                case "access-log":
                    options.AccessLog = Text(value, source, where);
                    break;
                case "mounts":
                    var mounts = value as JsonArray ?? throw new LwsConfigurationException($"{source}: {where}: must be an array of mount objects.");
                    for (var i = 0; i < mounts.Count; i++)
                    {
                        options.Mounts.Add(Mount(Object(mounts[i], source, $"{where}[{i}]"), source, $"{where}[{i}]", unsupported));
                    }

                    break;
                case "ws-protocols":
                    options.Protocols = Protocols(value, source, where, unsupported);
                    break;
                case "keepalive-timeout":
                    // lws: seconds an idle HTTP/1.1 keep-alive connection of this vhost stays open.
                    var seconds = Integer(value, source, where);
                    options.KeepAliveTimeoutMs = seconds <= int.MaxValue / 1000
                        ? seconds * 1000
                        : throw new LwsConfigurationException($"{source}: {where}: '{seconds}' seconds is too long.");
                    break;
                default:
                    unsupported.Add($"{source}: {where}");
                    break;
            }
        }

        // lwsws: "unix-socket": "1" makes "interface" the socket's path; a path given directly is taken as well.
        if (unixSocket is { } socket && socket != "0")
        {
            options.UnixSocket = socket == "1" ? iface ?? throw new LwsConfigurationException($"{source}: {at}.unix-socket: \"1\" needs the socket's path in \"interface\".") : socket;
        }
        else if (iface is not null)
        {
            options.Address = iface;
        }

        options.Tls = tls;
        return options;
    }

    private static MountOptions Mount(JsonObject mount, string source, string at, List<string> unsupported)
    {
        var options = new MountOptions();
        int? maxAge = null;
        bool? reuse = null, revalidate = null, intermediaries = null;
        foreach (var (key, value) in mount)
        {
            var where = $"{at}.{key}";
            switch (key)
            {
                case "mountpoint":
                    options.MountPoint = Text(value, source, where);
                    break;
                case "origin":
                    var origin = Text(value, source, where);
                    if (origin.StartsWith("http://", StringComparison.Ordinal) || origin.StartsWith("https://", StringComparison.Ordinal))
                    {
                        // lws: an http(s):// origin redirects there (LWSMPRO_REDIR_HTTP(S)).
                        options.Redirect = origin;
                        options.Origin = "";
                    }
                    else if (origin.StartsWith("file://", StringComparison.Ordinal) || origin.StartsWith(MountOptions.CallbackScheme, StringComparison.Ordinal))
                    {
                        options.Origin = origin;
                    }
                    else
                    {
                        unsupported.Add($"{source}: {where} ('{origin}': only file://, http://, https:// and callback:// origins are served)");
                    }

                    break;
                case "default":
                    options.DefaultDocuments = [Text(value, source, where)];
                    break;
                case "extra-mimetypes":
                    foreach (var (extension, type) in Object(value, source, where))
                    {
                        options.MimeTypes[extension.StartsWith('.') ? extension : "." + extension] = Text(type, source, $"{where}.{extension}");
                    }

                    break;
                case "cache-max-age":
                    maxAge = Integer(value, source, where);
                    break;
                case "cache-reuse":
                    reuse = Flag(value, source, where);
                    break;
                case "cache-revalidate":
                    revalidate = Flag(value, source, where);
                    break;
                case "cache-intermediaries":
                    intermediaries = Flag(value, source, where);
                    break;
                default:
                    unsupported.Add($"{source}: {where}");
                    break;
            }
        }

        options.CacheControl = CacheControl(maxAge, reuse, revalidate, intermediaries);
        return options;
    }

    /// <summary>lws's cache header from its four mount keys (lws: <c>lws_serve_http_file</c>).</summary>
    private static string? CacheControl(int? maxAge, bool? reuse, bool? revalidate, bool? intermediaries)
    {
        if (maxAge is null && reuse is null && revalidate is null && intermediaries is null)
        {
            return null;
        }

        if (reuse == false)
        {
            return "no-store";
        }

        var parts = new List<string> { intermediaries == true ? "public" : "private" };
        if (revalidate == true)
        {
            parts.Add("must-revalidate");
        }

        parts.Add($"max-age={(maxAge ?? 0).ToString(CultureInfo.InvariantCulture)}");
        return string.Join(", ", parts);
    }

    /// <summary>
    /// <c>"ws-protocols": [{ "name": { "option": "value" } }, ...]</c> (lws: per-vhost options, <c>pvo</c>). lws's own
    /// markers (<c>default</c>, <c>raw</c>) are not protocol options and have no equivalent here; every other option
    /// goes to the plugin, which checks it, under its camel-case name.
    /// </summary>
    private static List<ProtocolSelection> Protocols(JsonNode? value, string source, string at, List<string> unsupported)
    {
        var list = value as JsonArray ?? throw new LwsConfigurationException($"{source}: {at}: must be an array of {{ \"protocol-name\": {{ options }} }} objects.");
        var protocols = new List<ProtocolSelection>();
        for (var i = 0; i < list.Count; i++)
        {
            foreach (var (name, settings) in Object(list[i], source, $"{at}[{i}]"))
            {
                var options = new JsonObject();
                foreach (var (key, option) in settings is null ? [] : Object(settings, source, $"{at}.{name}"))
                {
                    if (key is "default" or "raw")
                    {
                        unsupported.Add($"{source}: {at}.{name}.{key}");
                        continue;
                    }

                    // lws names options in kebab case ("update-ms"), our plugins in camel case ("updateMs").
                    options[CamelCase(key)] = option?.DeepClone();
                }

                protocols.Add(new ProtocolSelection(name, JsonSerializer.SerializeToElement(options)));
            }
        }

        return protocols;
    }

    private static string CamelCase(string kebab)
    {
        var parts = kebab.Split('-', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length <= 1 ? kebab : parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    private static JsonObject Object(JsonNode? node, string source, string at)
        => node as JsonObject ?? throw new LwsConfigurationException($"{source}: {at}: must be an object.");

    private static string Text(JsonNode? node, string source, string at)
        => node is JsonValue value && (value.TryGetValue<string>(out var text) || (value.GetValueKind() is JsonValueKind.Number && (text = value.ToJsonString()) is not null))
            ? text
            : throw new LwsConfigurationException($"{source}: {at}: must be a string.");

    private static int Integer(JsonNode? node, string source, string at)
        => int.TryParse(Text(node, source, at), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new LwsConfigurationException($"{source}: {at}: '{Text(node, source, at)}' is not a whole number.");

    private static bool Flag(JsonNode? node, string source, string at)
        => node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? value.GetValue<bool>()
            : Text(node, source, at) switch
            {
                "1" or "on" or "yes" or "true" => true,
                "0" or "off" or "no" or "false" => false,
                var other => throw new LwsConfigurationException($"{source}: {at}: '{other}' is not \"1\" or \"0\"."),
            };
}
