using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Host.Vfs;

/// <summary>A folder of a <see cref="ZipFileProvider"/>, explicit in the archive or implied by an entry's name.</summary>
internal sealed class ZipDirectoryInfo(string name, DateTimeOffset lastModified) : IFileInfo
{
    public bool Exists => true;

    public long Length => -1;

    public string? PhysicalPath => null;

    public string Name => name;

    public DateTimeOffset LastModified => lastModified;

    public bool IsDirectory => true;

    public Stream CreateReadStream() => throw new InvalidOperationException($"'{name}' is a folder.");
}
