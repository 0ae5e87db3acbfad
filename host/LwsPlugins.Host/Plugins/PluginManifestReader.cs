using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Sdk;
using NuGet.Versioning;

namespace LwsPlugins.Host.Plugins;

/// <summary>Reads and validates plugin manifests before anything of the plugin is loaded.</summary>
internal static partial class PluginManifestReader
{
    private static readonly JsonDocumentOptions s_json = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly string[] s_knownFields = ["id", "assembly", "version", "sdk", "protocols", "description", "reloadPolicy", "fileProviders"];

    /// <summary>The version of the SDK this host carries, against which manifests' <c>sdk</c> ranges are checked.</summary>
    public static NuGetVersion HostSdkVersion { get; } = ReadSdkVersion();

    /// <summary>Reads a manifest; every problem throws a <see cref="PluginLoadException"/> naming the file and field.</summary>
    public static PluginManifest Read(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream, s_json);
        }
        catch (JsonException ex)
        {
            throw PluginLoadException.At(path, null, $"not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ConfigurationJsonText.FirstSentence(ex.Message)}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw PluginLoadException.At(path, null, $"cannot read the manifest: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw PluginLoadException.At(path, null, "the manifest must be a JSON object.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(s_knownFields, property.Name) < 0)
                {
                    throw PluginLoadException.At(path, property.Name, $"unknown field (known: {string.Join(", ", s_knownFields)}).");
                }
            }

            var id = RequiredString(root, "id", path);
            if (!IdPattern().IsMatch(id))
            {
                throw PluginLoadException.At(path, "id", $"'{id}' is not a valid plugin id (lower-case letters, digits, '.', '-', '_').");
            }

            var expectedFile = id + ".json";
            if (!string.Equals(Path.GetFileName(path), expectedFile, StringComparison.Ordinal))
            {
                throw PluginLoadException.At(path, "id", $"'{id}' does not match the manifest's file name (expected {expectedFile}).");
            }

            var assembly = RequiredString(root, "assembly", path);
            if (assembly.IndexOfAny(['/', '\\']) >= 0 || assembly is "." or ".." || !assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                throw PluginLoadException.At(path, "assembly", $"'{assembly}' must be the file name of a .dll beside the manifest.");
            }

            var versionText = RequiredString(root, "version", path);
            if (!NuGetVersion.TryParse(versionText, out var version))
            {
                throw PluginLoadException.At(path, "version", $"'{versionText}' is not a version (e.g. 1.0.0).");
            }

            var sdkText = RequiredString(root, "sdk", path);
            if (!VersionRange.TryParse(sdkText, out var sdkRange))
            {
                throw PluginLoadException.At(path, "sdk", $"'{sdkText}' is not a version range (e.g. [1.0.0, 2.0.0)).");
            }

            if (!sdkRange.Satisfies(HostSdkVersion))
            {
                throw PluginLoadException.At(
                    path,
                    "sdk",
                    $"the plugin needs SDK {sdkRange.PrettyPrint()}, this host has {HostSdkVersion}. Fix: rebuild the plugin against LwsPlugins.Sdk " +
                    $"{HostSdkVersion.Major}.x and set \"sdk\" to a range that includes {HostSdkVersion} (e.g. \"[{HostSdkVersion.Major}.0.0, {HostSdkVersion.Major + 1}.0.0)\"), " +
                    "or run the plugin on a host whose SDK the range includes.");
            }

            var fileProviders = ReadFileProviders(root, path);
            var protocols = ReadProtocols(root, path, required: fileProviders.Count == 0);
            PluginReloadPolicy? reloadPolicy = null;
            if (root.TryGetProperty("reloadPolicy", out var policyElement))
            {
                if (policyElement.ValueKind != JsonValueKind.String || !Enum.TryParse<PluginReloadPolicy>(policyElement.GetString(), ignoreCase: true, out var policy))
                {
                    throw PluginLoadException.At(path, "reloadPolicy", "must be \"drain\" or \"restart\".");
                }

                reloadPolicy = policy;
            }

            return new PluginManifest(id, assembly, version, sdkRange, protocols, Path.GetFullPath(path), reloadPolicy) { FileProviders = fileProviders };
        }
    }

    private static List<string> ReadFileProviders(JsonElement root, string path)
    {
        var prefixes = new List<string>();
        if (!root.TryGetProperty("fileProviders", out var array))
        {
            return prefixes;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw PluginLoadException.At(path, "fileProviders", "must be an array of VFS prefixes, e.g. [\"/bundle\"].");
        }

        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var field = $"fileProviders[{index++}]";
            var prefix = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            if (prefix is null || !Vfs.VfsPath.IsValidPrefix(prefix))
            {
                throw PluginLoadException.At(path, field, "must be a VFS prefix: a string that starts with '/' and does not end with one, e.g. \"/bundle\".");
            }

            if (prefixes.Contains(prefix))
            {
                throw PluginLoadException.At(path, field, $"'{prefix}' is listed twice.");
            }

            prefixes.Add(prefix);
        }

        return prefixes;
    }

    private static List<ManifestProtocol> ReadProtocols(JsonElement root, string path, bool required)
    {
        var present = root.TryGetProperty("protocols", out var array);
        if (!present && !required)
        {
            return [];
        }

        if (!present || array.ValueKind != JsonValueKind.Array || (required && array.GetArrayLength() == 0))
        {
            throw PluginLoadException.At(path, "protocols", "required: a non-empty array of { \"name\": ..., \"options\": { ... } } (or a plugin of file providers only: \"fileProviders\").");
        }

        var protocols = new List<ManifestProtocol>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var field = $"protocols[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw PluginLoadException.At(path, field, "must be an object with a name.");
            }

            if (!item.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                throw PluginLoadException.At(path, field + ".name", "required: the subprotocol name.");
            }

            var name = nameElement.GetString()!;
            if (!SubprotocolName.IsValid(name))
            {
                throw PluginLoadException.At(path, field + ".name", $"'{name}' is not a valid WebSocket subprotocol name.");
            }

            if (protocols.Exists(p => p.Name == name))
            {
                throw PluginLoadException.At(path, field + ".name", $"'{name}' is listed twice.");
            }

            JsonElement? options = null;
            if (item.TryGetProperty("options", out var optionsElement))
            {
                if (optionsElement.ValueKind != JsonValueKind.Object)
                {
                    throw PluginLoadException.At(path, field + ".options", "must be a JSON object.");
                }

                options = optionsElement.Clone();
            }

            protocols.Add(new ManifestProtocol(name, options));
        }

        return protocols;
    }

    private static string RequiredString(JsonElement root, string field, string path)
    {
        if (!root.TryGetProperty(field, out var element))
        {
            throw PluginLoadException.At(path, field, "required.");
        }

        if (element.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(element.GetString()))
        {
            throw PluginLoadException.At(path, field, "must be a non-empty string.");
        }

        return element.GetString()!;
    }

    private static NuGetVersion ReadSdkVersion()
    {
        var informational = typeof(IProtocolPlugin).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var plus = informational?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        var text = plus >= 0 ? informational![..plus] : informational;
        return NuGetVersion.TryParse(text, out var version) ? version : new NuGetVersion(typeof(IProtocolPlugin).Assembly.GetName().Version!);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex IdPattern();
}
