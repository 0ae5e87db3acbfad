using System.Collections;
using Microsoft.Extensions.FileProviders;
using LwsPlugins.Host.Vfs.StaticFiles;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// Serves the entries of a .zip archive as files (lws: the zip fops). The central directory is read once, and again when
/// the archive changes on disk; each read
/// opens the archive anew, so requests never share a position. An entry named with <c>..</c>, <c>.</c>, a leading
/// '/', a backslash, a drive letter or a control character, an encrypted entry, and one neither stored nor deflated
/// are never served.
/// </summary>
internal sealed class ZipFileProvider : IFileProvider
{
    private readonly Lock _lock = new();
    private Directory _directory;

    /// <summary>Reads the archive's directory.</summary>
    /// <exception cref="InvalidDataException">The archive is damaged, or ZIP64 or split.</exception>
    /// <exception cref="IOException">The archive cannot be read.</exception>
    public ZipFileProvider(string archivePath)
    {
        ArchivePath = Path.GetFullPath(archivePath);
        var token = new FileStateChangeToken(ArchivePath, followLinks: true);
        _directory = Directory.Read(ArchivePath, token);
    }

    public string ArchivePath { get; }

    /// <summary>How many entries are never served (unsafe names, encryption, unknown methods, duplicates).</summary>
    public int Skipped => Current().Skipped;

    public IFileInfo GetFileInfo(string subpath)
        => Key(subpath) is { } key && Current().Files.TryGetValue(key, out var file) ? file : new NotFoundFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath)
        => Key(subpath) is { } key && Current().Folders.TryGetValue(key, out var items) ? new Contents(items) : NotFoundDirectoryContents.Singleton;

    /// <summary>Changes when the archive is written, replaced or deleted: every entry may have changed.</summary>
    public IChangeToken Watch(string filter) => Current().Token;

    private static string? Key(string subpath) => VfsPath.IsSafe(subpath) && !subpath.Contains("//", StringComparison.Ordinal) ? subpath.Trim('/') : null;

    private static string Parent(string name) => name.LastIndexOf('/') is var slash and >= 0 ? name[..slash] : "";

    private static bool IsServable(ZipCentralDirectoryEntry entry, string name)
        => name.Length > 0 && name[0] != '/' && VfsPath.IsSafe(name) && !name.Contains("//", StringComparison.Ordinal) && !entry.IsEncrypted
            && entry.Method is ZipCentralDirectoryEntry.Stored or ZipCentralDirectoryEntry.Deflated;

    /// <summary>
    /// The directory of the archive as it is now: an archive replaced on disk is read again (its entries' offsets are not
    /// the old ones); one that cannot be read serves nothing until it changes again.
    /// </summary>
    private Directory Current()
    {
        var directory = Volatile.Read(ref _directory);
        if (!directory.Token.HasChanged)
        {
            return directory;
        }

        lock (_lock)
        {
            if (_directory.Token.HasChanged)
            {
                var token = new FileStateChangeToken(ArchivePath, followLinks: true);
                Directory next;
                try
                {
                    next = Directory.Read(ArchivePath, token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    next = new Directory(token);
                }

                Volatile.Write(ref _directory, next);
            }

            return _directory;
        }
    }

    private sealed class Directory(IChangeToken token)
    {
        public IChangeToken Token => token;

        public Dictionary<string, ZipEntryFileInfo> Files { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<IFileInfo>> Folders { get; } = new(StringComparer.Ordinal) { [""] = [] };

        public int Skipped { get; private set; }

        public static Directory Read(string archivePath, IChangeToken token)
        {
            var directory = new Directory(token);
            using var archive = File.OpenRead(archivePath);
            foreach (var entry in ZipCentralDirectory.Read(archive))
            {
                var name = entry.Name.TrimEnd('/');
                if (!IsServable(entry, name))
                {
                    directory.Skipped++;
                    continue;
                }

                if (entry.Name.EndsWith('/'))
                {
                    directory.AddFolder(name, entry.LastModified);
                    continue;
                }

                if (directory.Files.ContainsKey(name) || directory.Folders.ContainsKey(name))
                {
                    directory.Skipped++;
                    continue;
                }

                var file = new ZipEntryFileInfo(archivePath, entry, ZipCentralDirectory.DataOffset(archive, entry));
                directory.Files[name] = file;
                directory.AddFolder(Parent(name), entry.LastModified);
                directory.Folders[Parent(name)].Add(file);
            }

            return directory;
        }

        private void AddFolder(string name, DateTimeOffset lastModified)
        {
            while (!Folders.ContainsKey(name))
            {
                Folders[name] = [];
                var parent = Parent(name);
                AddFolder(parent, lastModified);
                Folders[parent].Add(new ZipDirectoryInfo(name[(name.LastIndexOf('/') + 1)..], lastModified));
                name = parent;
            }
        }
    }

    private sealed class Contents(List<IFileInfo> items) : IDirectoryContents
    {
        public bool Exists => true;

        public IEnumerator<IFileInfo> GetEnumerator() => items.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
