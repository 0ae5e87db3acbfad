namespace LwsPlugins.Host.Configuration;

/// <summary>
/// The in-memory cache of small static files (server-wide, <c>staticFileCache</c> in the configuration file): each
/// cached file is kept with its headers and precompressed variants and written in one go; it is checked against its
/// provider's change token on every request, so a changed, deleted or replaced file is never served stale.
/// </summary>
public sealed class StaticFileCacheOptions
{
    /// <summary>Whether mounts cache their files; on by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The largest file (or precompressed variant) kept in memory, in bytes; larger files are sent from disk.</summary>
    public long MaxFileBytes { get; set; } = 64 * 1024;

    /// <summary>How many files the cache holds at most, across all mounts.</summary>
    public int MaxEntries { get; set; } = 1024;

    /// <summary>How many bytes of file content the cache holds at most, across all mounts.</summary>
    public long MaxBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>What is wrong with the options, one sentence each naming the key; empty when they are valid.</summary>
    public static IReadOnlyList<string> Validate(StaticFileCacheOptions? options)
    {
        if (options is null)
        {
            return ["staticFileCache: must be an object, not null."];
        }

        var errors = new List<string>();
        if (options.MaxFileBytes < 0)
        {
            errors.Add($"staticFileCache.maxFileBytes: must not be negative, was {options.MaxFileBytes}.");
        }

        if (options.MaxEntries < 1)
        {
            errors.Add($"staticFileCache.maxEntries: must be at least 1, was {options.MaxEntries}.");
        }

        if (options.MaxBytes < options.MaxFileBytes)
        {
            errors.Add($"staticFileCache.maxBytes: must be at least maxFileBytes ({options.MaxFileBytes}), was {options.MaxBytes}.");
        }

        return errors;
    }
}
