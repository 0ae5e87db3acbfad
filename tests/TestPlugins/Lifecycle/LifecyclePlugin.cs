using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.TestPlugins.Lifecycle;

/// <summary>Logs its instance's creation and disposal (category "Lifecycle"), so tests can count PROTOCOL_INIT/DESTROY; echoes text.</summary>
[ExportProtocol("lifecycle-protocol")]
public sealed class LifecyclePlugin : ProtocolPlugin<LifecycleHandler>;

public sealed partial class LifecycleHandler : ProtocolHandler
{
    private readonly ILogger _logger;
    private readonly string _vhost;

    public LifecycleHandler(ILoggerFactory loggerFactory, IProtocolContext context)
    {
        _logger = loggerFactory.CreateLogger("Lifecycle");
        _vhost = context.VhostName;
        LogCreated(_logger, _vhost);
    }

    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        // "flood <count> <size>": numbered messages from background work, which the host cannot pace: awaiting SendAsync
        // is what keeps a slow client's queue bounded.
        if (message.IsText && message.GetText().Split(' ') is ["flood", var count, var size])
        {
            _ = FloodAsync(session, int.Parse(count, CultureInfo.InvariantCulture), int.Parse(size, CultureInfo.InvariantCulture), session.Ended);
            return ValueTask.CompletedTask;
        }

        session.TrySend(WebSocketMessageType.Text, message.Data.ToArray());
        return ValueTask.CompletedTask;
    }

    private static async Task FloodAsync(IWebSocketSession session, int count, int size, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var text = i.ToString("D8", CultureInfo.InvariantCulture).PadRight(size, '.');
                if (!await session.SendTextAsync(text, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    [LoggerMessage(1, LogLevel.Information, "created {Vhost}")]
    private static partial void LogCreated(ILogger logger, string vhost);

    [LoggerMessage(2, LogLevel.Information, "disposed {Vhost}")]
    private static partial void LogDisposed(ILogger logger, string vhost);

    protected override async ValueTask DisposeAsyncCore()
    {
        LogDisposed(_logger, _vhost);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }
}
