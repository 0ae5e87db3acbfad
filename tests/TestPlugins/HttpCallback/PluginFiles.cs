using System.Text;
using LwsPlugins.Sdk.Files;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.TestPlugins.HttpCallback;

/// <summary>Serves a few in-memory files under the VFS prefix /plugin-files, for as long as this plugin generation serves.</summary>
[ExportFileProvider("/plugin-files")]
public sealed class PluginFiles : IFileProviderPlugin
{
    public IFileProvider CreateFileProvider(FileProviderPluginContext context)
        => new InMemoryFileProvider(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["/hello.txt"] = $"hello from plugin {context.PluginId} at {context.Prefix}",
            ["/docs/index.html"] = "<!doctype html><title>plugin docs</title>",
        });

    private sealed class InMemoryFileProvider(Dictionary<string, string> files) : IFileProvider
    {
        private readonly DateTimeOffset _modified = DateTimeOffset.UtcNow;

        public IFileInfo GetFileInfo(string subpath)
        {
            var path = subpath.StartsWith('/') ? subpath : "/" + subpath;
            if (files.TryGetValue(path, out var content))
            {
                return new InMemoryFile(Path.GetFileName(path), Encoding.UTF8.GetBytes(content), _modified);
            }

            return files.Keys.Any(k => k.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal))
                ? new InMemoryFolder(Path.GetFileName(path.TrimEnd('/')), _modified)
                : new NotFoundFileInfo(subpath);
        }

        public IDirectoryContents GetDirectoryContents(string subpath)
        {
            var folder = (subpath.StartsWith('/') ? subpath : "/" + subpath).TrimEnd('/') + "/";
            var children = files.Keys
                .Where(k => k.StartsWith(folder, StringComparison.Ordinal))
                .Select(k => GetFileInfo(folder + k[folder.Length..].Split('/')[0]))
                .DistinctBy(f => f.Name)
                .ToList();
            return children.Count > 0 ? new InMemoryFolderContents(children) : NotFoundDirectoryContents.Singleton;
        }

        public IChangeToken Watch(string filter) => NullChangeToken.Singleton;
    }

    private sealed class InMemoryFolderContents(List<IFileInfo> children) : IDirectoryContents
    {
        public bool Exists => true;

        public IEnumerator<IFileInfo> GetEnumerator() => children.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class InMemoryFile(string name, byte[] content, DateTimeOffset modified) : IFileInfo
    {
        public bool Exists => true;

        public long Length => content.Length;

        public string? PhysicalPath => null;

        public string Name => name;

        public DateTimeOffset LastModified => modified;

        public bool IsDirectory => false;

        public Stream CreateReadStream() => new MemoryStream(content, writable: false);
    }

    private sealed class InMemoryFolder(string name, DateTimeOffset modified) : IFileInfo
    {
        public bool Exists => true;

        public long Length => -1;

        public string? PhysicalPath => null;

        public string Name => name;

        public DateTimeOffset LastModified => modified;

        public bool IsDirectory => true;

        public Stream CreateReadStream() => throw new InvalidOperationException("a folder has no content.");
    }
}
