using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// Whether a plugin folder holds a whole build: its files keep their size and time across two looks (<see cref="Look"/>),
/// its manifest parses and names an assembly that is there, and every assembly in it is a complete PE image (a DLL still
/// being written is cut short of its sections). A build still writing is simply not ready yet.
/// </summary>
internal static class PluginFolderReadiness
{
    /// <summary>The folder's files with their sizes and write times, or <c>gone</c> when the folder does not exist.</summary>
    public static string Look(string directory)
    {
        try
        {
            var look = new StringBuilder();
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                look.Append(file.FullName).Append('|').Append(file.Length).Append('|').Append(file.LastWriteTimeUtc.Ticks).Append('\n');
            }

            return look.ToString();
        }
        catch (DirectoryNotFoundException)
        {
            return "gone";
        }
        catch (IOException ex)
        {
            // A file vanished between listing and reading its size: the folder is changing.
            return "changing: " + ex.Message;
        }
    }

    /// <summary>Returns why the folder does not hold a whole build yet, or <see langword="null"/> when it does.</summary>
    public static string? FindIncomplete(string directory)
    {
        var folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var manifest = Path.Combine(directory, folderName + ".json");
        try
        {
            if (!File.Exists(manifest))
            {
                return $"no {folderName}.json yet";
            }

            using (var document = JsonDocument.Parse(File.ReadAllBytes(manifest), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
            {
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("assembly", out var assembly) && assembly.ValueKind == JsonValueKind.String
                    && assembly.GetString() is { Length: > 0 } name && !File.Exists(Path.Combine(directory, name)))
                {
                    return $"the manifest's assembly '{name}' is not there yet";
                }
            }

            foreach (var dll in Directory.EnumerateFiles(directory, "*.dll", SearchOption.AllDirectories))
            {
                if (!IsWholeImage(dll))
                {
                    return $"'{Path.GetRelativePath(directory, dll)}' is not a whole assembly yet";
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return $"{folderName}.json does not parse yet";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    private static bool IsWholeImage(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
            var length = stream.Length;
            foreach (var section in pe.PEHeaders.SectionHeaders)
            {
                if ((long)section.PointerToRawData + section.SizeOfRawData > length)
                {
                    return false;
                }
            }

            if (pe.HasMetadata)
            {
                _ = pe.GetMetadataReader().GetAssemblyDefinition();
            }

            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
