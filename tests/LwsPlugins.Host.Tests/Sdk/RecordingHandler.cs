using System.Net.WebSockets;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>
/// Records every call as "opened id", "message id text", "closed id", "disposed". Echoes text; "close" closes the session
/// with 1000 "bye", "throw" throws, "after-close" sends after closing.
/// </summary>
public sealed class RecordingHandler(IProtocolContext context, ILogger logger, TimeProvider time) : ProtocolHandler
{
    private readonly Lock _gate = new();
    private readonly List<string> _calls = [];

    public IProtocolContext Context { get; } = context;

    public ILogger Logger { get; } = logger;

    public TimeProvider Time { get; } = time;

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        Record($"opened {session.Id}");
        return ValueTask.CompletedTask;
    }

    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var text = message.GetText();
        Record($"message {session.Id} {text}");
        switch (text)
        {
            case "close":
                session.Close(WebSocketCloseStatus.NormalClosure, "bye");
                Record($"sent-after-close {session.TrySendText("late")}");
                break;
            case "throw":
                throw new InvalidOperationException("boom");
            default:
                session.TrySendText(text);
                break;
        }

        return ValueTask.CompletedTask;
    }

    public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Record($"closed {session.Id} ended={session.Ended.IsCancellationRequested}");
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        Record("disposed");
        await base.DisposeAsyncCore();
    }

    private void Record(string call)
    {
        lock (_gate)
        {
            _calls.Add(call);
        }
    }
}
