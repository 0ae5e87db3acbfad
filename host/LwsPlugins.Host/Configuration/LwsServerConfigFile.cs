using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LwsPlugins.Host.Configuration;

/// <summary>Reads the server's JSON configuration file (lws-style <c>#</c> line comments allowed).</summary>
public static class LwsServerConfigFile
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Reads and validates a configuration file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The options.</returns>
    /// <exception cref="LwsConfigurationException">The file cannot be read, is not valid JSON, or fails validation; the message names the file and key.</exception>
    public static LwsServerOptions Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LwsConfigurationException($"{path}: cannot read the configuration file: {ex.Message}", ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses and validates configuration text.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where the text came from, for messages.</param>
    /// <returns>The options.</returns>
    /// <exception cref="LwsConfigurationException">The text is not valid or fails validation.</exception>
    public static LwsServerOptions Parse(string json, string source)
    {
        var options = Deserialize<LwsServerOptions>(json, source)
            ?? throw new LwsConfigurationException($"{source}: the configuration is empty (null).");
        if (options.Vhosts is null)
        {
            throw new LwsConfigurationException($"{source}: vhosts: must be an array of vhosts.");
        }

        var errors = ValidateVhosts(options.Vhosts, options.HandshakeTimeoutMs);
        if (string.IsNullOrWhiteSpace(options.PluginsPath))
        {
            errors.Add("pluginsPath: must not be empty.");
        }

        errors.AddRange(FileProviderOptionsValidator.Validate(options.FileProviders));
        errors.AddRange(StaticFileCacheOptions.Validate(options.StaticFileCache));
        if (options.HandshakeTimeoutMs < 1)
        {
            errors.Add($"handshakeTimeoutMs: must be at least 1, was {options.HandshakeTimeoutMs}.");
        }

        if (options.DestroyDelayMs < 0)
        {
            errors.Add($"destroyDelayMs: must not be negative, was {options.DestroyDelayMs}.");
        }

        foreach (var (key, name, idKey, id) in new[] { ("user", options.User, "uid", options.Uid), ("group", options.Group, "gid", options.Gid) })
        {
            if (name is not null && id is not null)
            {
                errors.Add($"{idKey}: set {key} or {idKey}, not both.");
            }
            else if (id is < 0)
            {
                errors.Add($"{idKey}: must not be negative, was {id}.");
            }
            else if (name is not null && string.IsNullOrWhiteSpace(name))
            {
                errors.Add($"{key}: must be a name or a numeric id when set.");
            }
        }

        if (options.Otlp is { } otlp)
        {
            if (!Uri.TryCreate(otlp.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                errors.Add($"otlp.endpoint: must be an http(s) URL, was '{otlp.Endpoint}'.");
            }

            if (otlp.Protocol is not ("grpc" or "httpProtobuf"))
            {
                errors.Add($"otlp.protocol: must be \"grpc\" or \"httpProtobuf\", was '{otlp.Protocol}'.");
            }

            if (otlp.ExportIntervalMs < 100)
            {
                errors.Add($"otlp.exportIntervalMs: must be at least 100, was {otlp.ExportIntervalMs}.");
            }
        }

        errors.AddRange(BackplaneOptionsValidator.Validate(options.Backplane));
        if (options.Admin is null)
        {
            errors.Add("admin: must be an object, not null.");
        }
        else
        {
            errors.AddRange(AdminApiOptionsValidator.Validate(options.Admin));
        }

        ThrowIfAny(errors, source);
        return options;
    }

    /// <summary>
    /// Parses and validates vhosts alone, as a <c>conf.d</c> file or an admin request holds them: one vhost object, or an
    /// array of them.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where the text came from, for messages.</param>
    /// <returns>The vhosts.</returns>
    /// <exception cref="LwsConfigurationException">The text is not valid or fails validation.</exception>
    public static IReadOnlyList<VhostOptions> ParseVhosts(string json, string source)
    {
        var text = StripHashComments(json);
        var isArray = text.AsSpan().TrimStart().StartsWith("[");
        var vhosts = isArray
            ? Deserialize<List<VhostOptions>>(text, source)
            : Deserialize<VhostOptions>(text, source) is { } single ? [single] : null;
        if (vhosts is null)
        {
            throw new LwsConfigurationException($"{source}: expected a vhost object or an array of vhosts, found null.");
        }

        ThrowIfAny(ValidateVhosts(vhosts), source);
        return vhosts;
    }

    /// <summary>
    /// Parses an array of vhosts element by element, so a bad vhost does not refuse the good ones beside it: each
    /// element's vhost, or its error and (when readable) its name. Null when the text is not an array of more than one
    /// element (then <see cref="ParseVhosts"/> says what is wrong with it as a whole).
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where the text came from, for messages.</param>
    /// <returns>One outcome per element, or null.</returns>
    public static IReadOnlyList<VhostParseOutcome>? ParseVhostsEach(string json, string source)
    {
        if (VhostArraySplit.Elements(StripHashComments(json)) is not { Count: > 1 } elements)
        {
            return null;
        }

        var outcomes = new List<VhostParseOutcome>();
        foreach (var element in elements)
        {
            try
            {
                outcomes.AddRange(ParseVhosts(element, source).Select(v => new VhostParseOutcome(v.Name, v, null)));
            }
            catch (LwsConfigurationException ex)
            {
                outcomes.Add(new VhostParseOutcome(NameOf(element), null, ex.Message));
            }
        }

        return outcomes;
    }

    private static string? NameOf(string element)
    {
        try
        {
            using var document = JsonDocument.Parse(element, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static T? Deserialize<T>(string json, string source)
    {
        var text = StripHashComments(json);
        var read = ConfigurationJsonText.Read(text, source, typeof(T));
        try
        {
            var parsed = JsonSerializer.Deserialize<T>(text, s_options);
            ProtocolOptionSources.Mark(parsed, read, source);
            return parsed;
        }
        catch (JsonException ex)
        {
            throw new LwsConfigurationException(read.Explain(ex), ex);
        }
    }

    private static List<string> ValidateVhosts(IList<VhostOptions> vhosts, int? handshakeTimeoutMs = null)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < vhosts.Count; i++)
        {
            var vhost = vhosts[i];
            if (vhost is null)
            {
                errors.Add($"vhosts[{i}]: must be an object, not null.");
                continue;
            }

            errors.AddRange(VhostOptionsValidator.Validate(vhost, handshakeTimeoutMs));
            if (!string.IsNullOrEmpty(vhost.Name) && !names.Add(vhost.Name))
            {
                errors.Add($"vhost '{vhost.Name}': name: is used by two vhosts.");
            }
        }

        return errors;
    }

    private static void ThrowIfAny(List<string> errors, string source)
    {
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException($"{source}: {string.Join(" ", errors)}");
        }
    }

    internal static string StripHashComments(string json)
    {
        if (!json.Contains('#', StringComparison.Ordinal))
        {
            return json;
        }

        var builder = new StringBuilder(json.Length);
        foreach (var line in json.Split('\n'))
        {
            // Blank the line rather than drop it, so line numbers in errors stay true.
            builder.Append(line.TrimStart().StartsWith('#') ? string.Empty : line).Append('\n');
        }

        return builder.ToString();
    }
}

/// <summary>One element of a vhost array read on its own (<see cref="LwsServerConfigFile.ParseVhostsEach"/>).</summary>
/// <param name="Name">The vhost's name, when it can be read.</param>
/// <param name="Vhost">The vhost, when it is valid.</param>
/// <param name="Error">Why it is refused, naming the source, the vhost and the key.</param>
public sealed record VhostParseOutcome(string? Name, VhostOptions? Vhost, string? Error);
