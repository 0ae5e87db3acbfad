using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server.Configuration;

/// <summary>The configuration files' log lines (event ids 501–503, 505: the range the engine kept for them).</summary>
internal static partial class ConfigurationLog
{
    [LoggerMessage(501, LogLevel.Information, "Configuration: {Action} vhost {Vhost} from {Source}")]
    public static partial void Applied(ILogger logger, string action, string vhost, string source);

    [LoggerMessage(502, LogLevel.Error, "Configuration: {Reason}; the last good state stays")]
    public static partial void Rejected(ILogger logger, string reason);

    [LoggerMessage(503, LogLevel.Information, "Configuration reloaded: {Created} created, {Changed} changed in place, {Recreated} re-created, {Destroyed} destroyed")]
    public static partial void Reloaded(ILogger logger, int created, int changed, int recreated, int destroyed);

    [LoggerMessage(505, LogLevel.Information, "Configuration: destroyed vhost {Vhost}: it is no longer in the configuration")]
    public static partial void RemovedVhost(ILogger logger, string vhost);
}
