using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// Changes when a file of the platform file system is no longer what it was when the token was made: created, deleted,
/// or written (its length or modification time). It asks the file system each time it
/// is read (one <c>lstat</c>): a file watcher costs an inotify instance per folder (128 per user here) and tells of a
/// change only after it happened, while this token is never behind the disk.
/// </summary>
internal sealed class FileStateChangeToken : IChangeToken
{
    private readonly State _state;
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
        _state = Read(path);
        _changed = !followLinks && _state.Exists && new FileInfo(path).LinkTarget is not null;
    }

    public string Path { get; }

    public bool HasChanged
    {
        get
        {
            if (_changed)
            {
                return true;
            }

            if (Read(Path) != _state)
            {
                _changed = true;
            }

            return _changed;
        }
    }

    public bool ActiveChangeCallbacks => false;

    public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;

    // Length and time only: FileSystemInfo.Attributes would add a geteuid per read. A file replaced by a link afterwards
    // shows the target's length and time, which differ from the file's unless it was a copy written in the same tick.
    private static State Read(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new State(true, info.Length, info.LastWriteTimeUtc.Ticks) : default;
    }

    private readonly record struct State(bool Exists, long Length, long LastWriteTicks);

    private sealed class EmptyDisposable : IDisposable
    {
        public static readonly EmptyDisposable Instance = new();

        public void Dispose()
        {
        }
    }
}
