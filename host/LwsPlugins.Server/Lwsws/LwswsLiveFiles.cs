using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server.Lwsws;

/// <summary>
/// The lwsws files as the live configuration reads them (its parse delegate, <see cref="ParseVhosts"/>): the keys with no
/// equivalent are named once at start, for every file together (<see cref="UnsupportedAtStart"/>); after the start, a
/// file read with a text it did not have before (edited, or added to <c>conf.d</c>) names its own in one warning, so a
/// file changed while the server runs is never silently partly applied. A reload that leaves a file as it was says
/// nothing about it again.
/// </summary>
internal sealed partial class LwswsLiveFiles(IReadOnlyList<string> unsupportedAtStart)
{
    private readonly Lock _gate = new();

    // What each file held when it was last read: only a new text is reported.
    private readonly Dictionary<string, string> _read = new(StringComparer.Ordinal);
    private ILogger? _logger;

    /// <summary>Every key of every file that has no equivalent, as read at start, for the one start-up message.</summary>
    public IReadOnlyList<string> UnsupportedAtStart { get; } = unsupportedAtStart;

    /// <summary>The vhosts of one file; after <see cref="Started"/>, a new text with unsupported keys is logged (event 540).</summary>
    /// <exception cref="LwsConfigurationException">The text is not lwsws JSON or a key has the wrong shape.</exception>
    public IReadOnlyList<VhostOptions> ParseVhosts(string text, string file)
    {
        var parsed = LwswsTranslator.Parse(text, file);
        lock (_gate)
        {
            var changed = !_read.TryGetValue(file, out var before) || !string.Equals(before, text, StringComparison.Ordinal);
            _read[file] = text;
            if (changed && _logger is { } logger && parsed.Unsupported.Count > 0)
            {
                var prefix = file + ": ";
                var keys = parsed.Unsupported.Select(k => k.StartsWith(prefix, StringComparison.Ordinal) ? k[prefix.Length..] : k);
                LogUnsupportedInFile(logger, file, parsed.Unsupported.Count, string.Join("; ", keys));
            }
        }

        return parsed.Vhosts;
    }

    /// <summary>The start-up load is done (its keys were named in the start-up message): from now on each new text is reported.</summary>
    public void Started(ILogger logger)
    {
        lock (_gate)
        {
            _logger = logger;
        }
    }

    [LoggerMessage(540, LogLevel.Warning, "lwsws configuration: {File} changed: {Count} of its keys have no equivalent here and are not applied: {Keys}")]
    private static partial void LogUnsupportedInFile(ILogger logger, string file, int count, string keys);
}
