using System.Net.WebSockets;
using LwsPlugins.Sdk;

namespace LwsPlugins.TestPlugins.Throwing;

/// <summary>
/// Echoes text. Misbehaves on request so tests can see the host contain the fault: "boom" throws, "block" blocks its
/// thread (until the session's token is cancelled, at most a minute), "hang" returns a task that never completes,
/// "leak" starts a task nobody awaits that fails a moment later.
/// </summary>
[ExportProtocol("throwing-protocol")]
public sealed class ThrowingPlugin : ProtocolPlugin<ThrowingHandler>;

public sealed class ThrowingHandler : ProtocolHandler
{
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        var text = message.GetText();
        switch (text)
        {
            case "boom":
                throw new InvalidOperationException("boom requested by the client");
            case "block":
                // Deliberately synchronous: a plugin that blocks the thread the host called it on.
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
                return ValueTask.CompletedTask;
            case "hang":
                return new ValueTask(new TaskCompletionSource().Task);
            case "leak":
                _ = Task.Run(LeakedWork, CancellationToken.None);
                session.TrySend(WebSocketMessageType.Text, "leaked"u8.ToArray());
                return ValueTask.CompletedTask;
        }

        session.TrySend(WebSocketMessageType.Text, message.Data.ToArray());
        return ValueTask.CompletedTask;
    }

    private static async Task LeakedWork()
    {
        await Task.Delay(10).ConfigureAwait(false);
        throw new InvalidOperationException("leaked task failed");
    }
}
