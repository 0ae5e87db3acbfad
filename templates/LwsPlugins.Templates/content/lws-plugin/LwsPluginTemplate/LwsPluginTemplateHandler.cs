using LwsPlugins.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LwsPluginTemplate;

/// <summary>
/// The protocol's instance for one vhost (lws: <c>PROTOCOL_INIT</c>); disposed when the vhost or this plugin version
/// goes (lws: <c>PROTOCOL_DESTROY</c>). Echoes every message back to its sender; text gets the configured prefix.
/// </summary>
/// <remarks>
/// Hot reload: take <see cref="ILogger"/> or <see cref="ILoggerFactory"/> (never a host <c>ILogger&lt;T&gt;</c>), make timers from the
/// <see cref="TimeProvider"/> you are given and dispose them in <see cref="ProtocolHandler.DisposeAsyncCore"/>, and keep
/// nothing of this plugin in static fields or static events of shared types.
/// </remarks>
public sealed class LwsPluginTemplateHandler : ProtocolHandler
{
    private readonly LwsPluginTemplateOptions _options;
    private readonly ILogger _logger;

    /// <summary>Created by the plugin with the vhost's options and the host's logging.</summary>
    /// <param name="options">The bound, validated options.</param>
    /// <param name="logger">The host's logger for this plugin (category <c>LwsPlugins.Plugins.&lt;plugin id&gt;</c>).</param>
    public LwsPluginTemplateHandler(IOptions<LwsPluginTemplateOptions> options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        session.State = 0; // per-session state: the number of messages echoed
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug("Session {SessionId} opened on {Vhost}", session.Id, session.VhostName);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        session.State = (int)(session.State ?? 0) + 1;
        if (message.IsText)
        {
            session.TrySendText(_options.Prefix + message.GetText()); // queued; never blocks
        }
        else
        {
            session.TrySend(message.Type, message.Data.ToArray()); // copy: the received bytes are valid only during this call
        }

        return ValueTask.CompletedTask;
    }
}
