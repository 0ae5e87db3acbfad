using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// Changes when a file of the platform file system is no longer what it was when the token was made: created, deleted,
/// or written (inode, length, modification or change time). It asks the file system each time it is read (one
/// <c>statx</c>): a file watcher costs an inotify instance per folder (128 per user here) and tells of a
/// change only after it happened, while this token is never behind the disk.
/// </summary>
internal sealed class FileStateChangeToken : IChangeToken
{
    private readonly byte[] _nativePath;
    private readonly bool _followLinks;
    private readonly FileState _state;
    private volatile bool _changed;

    /// <param name="path">The file.</param>
    /// <param name="followLinks">
    /// Whether a link is watched as the file it names (a zip archive deployed by swapping a link); otherwise a link is
    /// never taken as unchanged: a provider confines the links it follows to its root, and a token cannot see a link
    /// retargeted without reading it.
    /// </param>
    public FileStateChangeToken(string path, bool followLinks = false)
    {
        Path = path;
        _followLinks = followLinks;
        _nativePath = FileState.NativePath(path);
        _state = FileState.Read(_nativePath, path, followLinks);
        _changed = _state.IsLink;
    }

    public string Path { get; }

    public bool HasChanged
    {
        get
        {
            if (!_changed && FileState.Read(_nativePath, Path, _followLinks) != _state)
            {
                _changed = true;
            }

            return _changed;
        }
    }

    public bool ActiveChangeCallbacks => false;

    public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;

    private sealed class EmptyDisposable : IDisposable
    {
        public static readonly EmptyDisposable Instance = new();

        public void Dispose()
        {
        }
    }
}
