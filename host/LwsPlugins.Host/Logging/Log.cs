using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Logging;

/// <summary>The engine's log messages. Event ids are stable: 1xx plugins, 2xx vhosts, 3xx sessions, 4xx listeners, 5xx admin, 6xx server signals (the server executable), 7xx TLS and privileges, 800-819 the backplane, 9xx the VFS.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Plugin {PluginId} generation {Generation} loaded: version {Version}, protocols {Protocols}")]
    public static partial void PluginLoaded(ILogger logger, string pluginId, int generation, string version, string protocols);

    [LoggerMessage(101, LogLevel.Error, "Plugin {PluginId} failed to load: {Reason}")]
    public static partial void PluginFailed(ILogger logger, string pluginId, string reason);

    [LoggerMessage(102, LogLevel.Warning, "Plugins folder {Path} does not exist; no plugin is loaded")]
    public static partial void PluginsFolderMissing(ILogger logger, string path);

    [LoggerMessage(103, LogLevel.Information, "Plugin {PluginId} was removed from the plugins folder")]
    public static partial void PluginRemoved(ILogger logger, string pluginId);

    [LoggerMessage(104, LogLevel.Information, "Vhost {Vhost}: protocol {Protocol} moved to plugin {PluginId} generation {Generation} ({Policy})")]
    public static partial void ProtocolReloaded(ILogger logger, string vhost, string protocol, string pluginId, int generation, string policy);

    [LoggerMessage(107, LogLevel.Warning, "Vhost {Vhost}: state hand-over of protocol {Protocol} failed; its sessions drain on the old code")]
    public static partial void HandOverFailed(ILogger logger, Exception exception, string vhost, string protocol);

    [LoggerMessage(108, LogLevel.Information, "Plugin {PluginId} generation {Generation} serves VFS prefix {Prefix}")]
    public static partial void PluginFileProviderServed(ILogger logger, string pluginId, int generation, string prefix);

    [LoggerMessage(109, LogLevel.Error, "Plugin {PluginId}: VFS prefix {Prefix} already has a provider (a configured one or another plugin's); the plugin's provider is not served")]
    public static partial void PluginFileProviderConflict(ILogger logger, string pluginId, string prefix);

    [LoggerMessage(106, LogLevel.Debug, "Plugins folder: change in {Folder}")]
    public static partial void PluginFolderChanged(ILogger logger, string folder);

    [LoggerMessage(110, LogLevel.Warning, "Plugins folder {Path} does not exist; watching {Parent} for it, plugins copied into it later load with no restart")]
    public static partial void PluginsFolderMissingWatchingParent(ILogger logger, string path, string parent);

    [LoggerMessage(111, LogLevel.Information, "Plugins folder {Path} appeared; watching it and loading what it holds")]
    public static partial void PluginsFolderAppeared(ILogger logger, string path);

    [LoggerMessage(112, LogLevel.Warning, "Plugins folder {Path} is gone; its plugins are removed and its parent is watched for it to come back")]
    public static partial void PluginsFolderGone(ILogger logger, string path);

    [LoggerMessage(113, LogLevel.Debug, "Plugins folder: {Folder} is not ready yet ({Reason}); waiting for the build to finish")]
    public static partial void PluginFolderNotReady(ILogger logger, string folder, string reason);

    [LoggerMessage(114, LogLevel.Error, "Plugins folder: reloading {Directory} failed")]
    public static partial void PluginReloadFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(200, LogLevel.Information, "Vhost {Vhost} created on {EndPoint} serving {Protocols}")]
    public static partial void VhostCreated(ILogger logger, string vhost, string endPoint, string protocols);

    [LoggerMessage(201, LogLevel.Information, "Vhost {Vhost} freed (destroy part 2)")]
    public static partial void VhostDestroyed(ILogger logger, string vhost);

    [LoggerMessage(202, LogLevel.Warning, "Vhost {Vhost}: protocol {Protocol} is unavailable: {Reason}")]
    public static partial void ProtocolUnavailable(ILogger logger, string vhost, string protocol, string reason);

    [LoggerMessage(203, LogLevel.Error, "Vhost {Vhost}: plugin {PluginId} failed to create protocol {Protocol}")]
    public static partial void ProtocolCreateFailed(ILogger logger, Exception exception, string vhost, string pluginId, string protocol);

    [LoggerMessage(210, LogLevel.Warning, "Vhost {Vhost} was not created: {Reason}")]
    public static partial void VhostNotCreated(ILogger logger, string vhost, string reason);

    [LoggerMessage(211, LogLevel.Information, "Vhost {Vhost} changed in place, its {Sessions} session(s) kept: {Changes}")]
    public static partial void VhostUpdated(ILogger logger, string vhost, int sessions, string changes);

    [LoggerMessage(212, LogLevel.Information, "Vhost {Vhost} re-created on {EndPoint} (its endpoint changed: {Reason}); the previous one is being destroyed")]
    public static partial void VhostRecreated(ILogger logger, string vhost, string endPoint, string reason);

    [LoggerMessage(213, LogLevel.Warning, "Vhost {Vhost} was not changed, the previous definition keeps serving: {Reason}")]
    public static partial void VhostNotChanged(ILogger logger, string vhost, string reason);

    [LoggerMessage(208, LogLevel.Information, "Vhost {Vhost} serves every plugin: now serving protocol {Protocol} ({Source})")]
    public static partial void VhostServesPluginProtocol(ILogger logger, string vhost, string protocol, string source);

    [LoggerMessage(209, LogLevel.Information, "Vhost {Vhost} serves every plugin: protocol {Protocol} is gone with its plugin")]
    public static partial void VhostStoppedServingPluginProtocol(ILogger logger, string vhost, string protocol);

    [LoggerMessage(204, LogLevel.Error, "Vhost {Vhost}: plugin {PluginId} threw while disposing protocol {Protocol}")]
    public static partial void ProtocolDisposeFailed(ILogger logger, Exception exception, string vhost, string pluginId, string protocol);

    [LoggerMessage(206, LogLevel.Information, "Vhost {Vhost} destroyed (part 1) in {Milliseconds} ms; freed after {DelayMs} ms")]
    public static partial void VhostDestroying(ILogger logger, string vhost, long milliseconds, int delayMs);

    [LoggerMessage(207, LogLevel.Information, "Listener {EndPoint} handed over from vhost {From} to vhost {To}")]
    public static partial void ListenerHandedOver(ILogger logger, string endPoint, string from, string to);

    [LoggerMessage(205, LogLevel.Information, "Vhost {Vhost}: refused WebSocket upgrade from {Remote}: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, string vhost, string? remote, string reason);

    [LoggerMessage(300, LogLevel.Error, "Session {SessionId} on vhost {Vhost}: plugin {PluginId} ({Protocol}) threw in {Callback}; closing the session with 1011")]
    public static partial void PluginCallbackFailed(ILogger logger, Exception exception, string sessionId, string vhost, string pluginId, string protocol, string callback);

    [LoggerMessage(305, LogLevel.Warning, "Session {SessionId} on vhost {Vhost}: plugin {PluginId} ({Protocol}) {Callback} did not complete within {TimeoutMs} ms; closing the session with 1011")]
    public static partial void PluginCallbackTimedOut(ILogger logger, string sessionId, string vhost, string pluginId, string protocol, string callback, int timeoutMs);

    [LoggerMessage(306, LogLevel.Error, "Vhost {Vhost}: plugin {PluginId} ({Protocol}) failed on HTTP {Method} {Path}")]
    public static partial void PluginHttpFailed(ILogger logger, Exception exception, string vhost, string pluginId, string protocol, string method, string path);

    [LoggerMessage(307, LogLevel.Warning, "Vhost {Vhost}: plugin {PluginId} ({Protocol}) did not answer HTTP {Method} {Path} within {TimeoutMs} ms")]
    public static partial void PluginHttpTimedOut(ILogger logger, string vhost, string pluginId, string protocol, string method, string path, int timeoutMs);

    [LoggerMessage(309, LogLevel.Error, "A task faulted and nothing awaited it (a plugin's fire-and-forget work?); thrown in assembly {Assembly}. The server carries on")]
    public static partial void UnobservedTaskException(ILogger logger, Exception exception, string assembly);

    [LoggerMessage(308, LogLevel.Warning, "Vhost {Vhost}: {Count} sessions are still inside plugin callbacks after the close timeout; the vhost is freed without waiting for them")]
    public static partial void SessionsStuckInPlugin(ILogger logger, string vhost, int count);

    [LoggerMessage(301, LogLevel.Warning, "Session {SessionId} on vhost {Vhost}: send queue full ({Limit} messages); closing the slow client with 1008")]
    public static partial void SlowConsumerClosed(ILogger logger, string sessionId, string vhost, int limit);

    [LoggerMessage(310, LogLevel.Warning, "Session {SessionId} on vhost {Vhost}: stalled, its client read nothing for {TimeoutMs} ms with messages waiting; closing it with 1008")]
    public static partial void StalledConsumerClosed(ILogger logger, string sessionId, string vhost, int timeoutMs);

    [LoggerMessage(311, LogLevel.Warning, "Session {SessionId} on vhost {Vhost}: send queue at twice its limit ({Limit} messages) from senders the host cannot pause; closing the slow client with 1008")]
    public static partial void SendQueueOverflowClosed(ILogger logger, string sessionId, string vhost, int limit);

    [LoggerMessage(302, LogLevel.Debug, "Session {SessionId} on vhost {Vhost} ({Protocol}) from {Remote} opened")]
    public static partial void SessionOpened(ILogger logger, string sessionId, string vhost, string protocol, string? remote);

    [LoggerMessage(303, LogLevel.Debug, "Session {SessionId} on vhost {Vhost} closed")]
    public static partial void SessionClosed(ILogger logger, string sessionId, string vhost);

    [LoggerMessage(304, LogLevel.Debug, "Session {SessionId}: connection ended abnormally: {Reason}")]
    public static partial void SessionAborted(ILogger logger, string sessionId, string reason);

    [LoggerMessage(504, LogLevel.Warning, "Admin API: {Request} refused: {Reason}")]
    public static partial void AdminRequestRefused(ILogger logger, string request, string reason);

    [LoggerMessage(500, LogLevel.Information, "Admin API listening on {EndPoint}")]
    public static partial void AdminApiStarted(ILogger logger, string endPoint);

    [LoggerMessage(900, LogLevel.Information, "VFS: {Prefix} is served from {Kind} {Path}")]
    public static partial void FileProviderAdded(ILogger logger, string prefix, string kind, string path);

    [LoggerMessage(901, LogLevel.Warning, "VFS: {Count} entries of {Path} are never served (unsafe names such as '..' or an absolute path, encryption, or a method other than stored and deflate)")]
    public static partial void ZipEntriesSkipped(ILogger logger, string path, int count);

    [LoggerMessage(400, LogLevel.Information, "Listening on {EndPoint}")]
    public static partial void ListenerStarted(ILogger logger, string endPoint);

    [LoggerMessage(401, LogLevel.Information, "Stopped listening on {EndPoint}")]
    public static partial void ListenerStopped(ILogger logger, string endPoint);

    [LoggerMessage(402, LogLevel.Warning, "Listener {EndPoint}: accepting a connection failed ({Reason}); retrying")]
    public static partial void AcceptFailed(ILogger logger, string endPoint, string reason);

    [LoggerMessage(403, LogLevel.Error, "Listener {EndPoint}: the session of direct connection {Connection} failed")]
    public static partial void DirectSessionFailed(ILogger logger, string endPoint, string connection, Exception exception);

    [LoggerMessage(404, LogLevel.Debug, "Listener {EndPoint}: connection {Connection} runs its WebSocket session on the socket")]
    public static partial void DirectSession(ILogger logger, string endPoint, string connection);

    [LoggerMessage(410, LogLevel.Debug, "Vhost {Vhost}: WebSocket upgrade from {Remote} taken on the fast path")]
    public static partial void UpgradeOnFastPath(ILogger logger, string vhost, string? remote);

    [LoggerMessage(700, LogLevel.Information, "Listener {EndPoint}: {Security}, bound to device {Device}")]
    public static partial void ListenerSecured(ILogger logger, string endPoint, string security, string device);

    [LoggerMessage(701, LogLevel.Information, "Vhost {Vhost}: TLS certificate {Subject} (thumbprint {Thumbprint}, expires {NotAfter})")]
    public static partial void VhostCertificateLoaded(ILogger logger, string vhost, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(702, LogLevel.Information, "Vhost {Vhost}: plain HTTP on {EndPoint} redirects to HTTPS")]
    public static partial void VhostRedirectsToHttps(ILogger logger, string vhost, string endPoint);

    [LoggerMessage(703, LogLevel.Information, "Privileges dropped to uid {Uid} gid {Gid} ({User}:{Group}); later vhosts cannot open privileged ports")]
    public static partial void PrivilegesDropped(ILogger logger, uint uid, uint gid, string user, string group);

    [LoggerMessage(800, LogLevel.Information, "Backplane: connected to Redis at {Endpoint}")]
    public static partial void BackplaneConnected(ILogger logger, string endpoint);

    [LoggerMessage(801, LogLevel.Warning, "Backplane: lost Redis at {Endpoint} ({FailureType}): {Reason} Local fan-out goes on; reconnecting")]
    public static partial void BackplaneLost(ILogger logger, string endpoint, string failureType, string reason);

    [LoggerMessage(802, LogLevel.Information, "Backplane: reconnected to Redis at {Endpoint} (reconnect {Reconnects})")]
    public static partial void BackplaneReconnected(ILogger logger, string endpoint, long reconnects);

    [LoggerMessage(803, LogLevel.Warning, "Backplane: Redis at {Endpoint} is unreachable at start; serving local members only and connecting as soon as it is up")]
    public static partial void BackplaneStartedLocalOnly(ILogger logger, string endpoint);

    [LoggerMessage(804, LogLevel.Warning, "Backplane: dropping messages for the other servers: {Reason} ({Dropped} dropped so far)")]
    public static partial void BackplaneDropping(ILogger logger, string reason, long dropped);

    [LoggerMessage(805, LogLevel.Warning, "Backplane: ignored a malformed message of {Length} bytes on channel {Channel}")]
    public static partial void BackplaneMalformed(ILogger logger, string channel, int length);

    [LoggerMessage(806, LogLevel.Error, "Backplane: a group threw while taking a message from channel {Channel}")]
    public static partial void BackplaneDeliveryFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(807, LogLevel.Debug, "Backplane: subscribing to {Channel} failed: {Reason} It is retried when the connection is back")]
    public static partial void BackplaneSubscribeFailed(ILogger logger, string channel, string reason);

    [LoggerMessage(808, LogLevel.Information, "Backplane: {Kind}")]
    public static partial void BackplaneSelected(ILogger logger, string kind);

    [LoggerMessage(809, LogLevel.Warning, "Backplane: channel {Channel} lost messages beyond recovery ({Reason}); its {Groups} local group(s) close their members with 1012 so they reconnect")]
    public static partial void BackplaneGapReported(ILogger logger, string channel, string reason, int groups);

    [LoggerMessage(810, LogLevel.Warning, "Backplane: Redis at {Endpoint} restarted without its data (run id {Previous} is now {Current}); {Held} message(s) the outbox still holds are sent again")]
    public static partial void BackplaneEpochChanged(ILogger logger, string endpoint, string previous, string current, long held);

    [LoggerMessage(811, LogLevel.Debug, "Backplane: reading the streams from Redis at {Endpoint} failed: {Reason} Read again from the same ids once connected")]
    public static partial void BackplaneReadFailed(ILogger logger, string endpoint, string reason);
}
