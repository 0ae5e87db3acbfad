using System.Collections;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// Serves the entries of a .zip archive as files (lws: the zip fops). The central directory is read once; each read
/// opens the archive anew, so requests never share a position. An entry named with <c>..</c>, <c>.</c>, a leading
/// '/', a backslash, a drive letter or a control character, an encrypted entry, and one neither stored nor deflated
/// are never served.
/// </summary>
internal sealed class ZipFileProvider : IFileProvider
{
    private readonly Dictionary<string, ZipEntryFileInfo> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IFileInfo>> _folders = new(StringComparer.Ordinal) { [""] = [] };

    /// <summary>Reads the archive's directory.</summary>
    /// <exception cref="InvalidDataException">The archive is damaged, or ZIP64 or split.</exception>
    /// <exception cref="IOException">The archive cannot be read.</exception>
    public ZipFileProvider(string archivePath)
    {
        ArchivePath = Path.GetFullPath(archivePath);
        using var archive = File.OpenRead(ArchivePath);
        foreach (var entry in ZipCentralDirectory.Read(archive))
        {
            var name = entry.Name.TrimEnd('/');
            if (!IsServable(entry, name))
            {
                Skipped++;
                continue;
            }

            if (entry.Name.EndsWith('/'))
            {
                AddFolder(name, entry.LastModified);
                continue;
            }

            if (_files.ContainsKey(name) || _folders.ContainsKey(name))
            {
                Skipped++;
                continue;
            }

            var file = new ZipEntryFileInfo(ArchivePath, entry, ZipCentralDirectory.DataOffset(archive, entry));
            _files[name] = file;
            AddFolder(Parent(name), entry.LastModified);
            _folders[Parent(name)].Add(file);
        }
    }

    public string ArchivePath { get; }

    /// <summary>How many entries are never served (unsafe names, encryption, unknown methods, duplicates).</summary>
    public int Skipped { get; private set; }

    public IFileInfo GetFileInfo(string subpath)
        => Key(subpath) is { } key && _files.TryGetValue(key, out var file) ? file : new NotFoundFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath)
        => Key(subpath) is { } key && _folders.TryGetValue(key, out var items) ? new Contents(items) : NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    private static string? Key(string subpath) => VfsPath.IsSafe(subpath) && !subpath.Contains("//", StringComparison.Ordinal) ? subpath.Trim('/') : null;

    private static string Parent(string name) => name.LastIndexOf('/') is var slash and >= 0 ? name[..slash] : "";

    private static bool IsServable(ZipCentralDirectoryEntry entry, string name)
        => name.Length > 0 && name[0] != '/' && VfsPath.IsSafe(name) && !name.Contains("//", StringComparison.Ordinal) && !entry.IsEncrypted
            && entry.Method is ZipCentralDirectoryEntry.Stored or ZipCentralDirectoryEntry.Deflated;

    private void AddFolder(string name, DateTimeOffset lastModified)
    {
        while (!_folders.ContainsKey(name))
        {
            _folders[name] = [];
            var parent = Parent(name);
            AddFolder(parent, lastModified);
            _folders[parent].Add(new ZipDirectoryInfo(name[(name.LastIndexOf('/') + 1)..], lastModified));
            name = parent;
        }
    }

    private sealed class Contents(List<IFileInfo> items) : IDirectoryContents
    {
        public bool Exists => true;

        public IEnumerator<IFileInfo> GetEnumerator() => items.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
