using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// The server-wide bound of the mounts' file caches: entries and bytes are counted across all mounts, and when a new
/// file would pass a bound the least recently served quarter of all cached files is dropped (a scan only when full, so
/// a hit costs one timestamp write).
/// </summary>
internal sealed class StaticFileCache
{
    private readonly Lock _lock = new();
    private readonly List<MountFileCache> _mounts = [];
    private long _bytes;
    private int _entries;

    /// <exception cref="LwsConfigurationException">The options are invalid; the message names the key.</exception>
    public StaticFileCache(StaticFileCacheOptions? options, TimeProvider time)
    {
        Time = time;
        var errors = StaticFileCacheOptions.Validate(options);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        Options = options!;
    }

    public StaticFileCacheOptions Options { get; }

    /// <summary>The clock preconditions compare dates with (a date in the future is ignored, RFC 9110 13.1.3).</summary>
    public TimeProvider Time { get; }

    public int Entries => Volatile.Read(ref _entries);

    public long Bytes => Interlocked.Read(ref _bytes);

    internal void Register(MountFileCache mount)
    {
        lock (_lock)
        {
            _mounts.Add(mount);
        }
    }

    internal void Unregister(MountFileCache mount)
    {
        lock (_lock)
        {
            _mounts.Remove(mount);
        }
    }

    /// <summary>Counts a file about to be added, making room first; false when it cannot fit at all.</summary>
    internal bool TryReserve(long bytes)
    {
        if (bytes > Options.MaxBytes)
        {
            return false;
        }

        if (Volatile.Read(ref _entries) + 1 > Options.MaxEntries || Interlocked.Read(ref _bytes) + bytes > Options.MaxBytes)
        {
            Evict(bytes);
        }

        Interlocked.Increment(ref _entries);
        Interlocked.Add(ref _bytes, bytes);
        return true;
    }

    internal void Release(long bytes)
    {
        Interlocked.Decrement(ref _entries);
        Interlocked.Add(ref _bytes, -bytes);
    }

    private void Evict(long needed)
    {
        lock (_lock)
        {
            var all = _mounts.SelectMany(m => m.Snapshot().Select(e => (Mount: m, e.Key, e.Value))).OrderBy(e => e.Value.LastUse).ToList();
            var quarter = Math.Max(1, all.Count / 4);
            var removed = 0;
            foreach (var (mount, key, file) in all)
            {
                if (removed >= quarter && Volatile.Read(ref _entries) + 1 <= Options.MaxEntries && Interlocked.Read(ref _bytes) + needed <= Options.MaxBytes)
                {
                    break;
                }

                if (mount.Remove(key, file))
                {
                    removed++;
                }
            }
        }
    }
}
