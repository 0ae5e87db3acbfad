using System.Net.WebSockets;
using LwsPlugins.Sdk;

namespace LwsPlugins.TestPlugins.Throwing;

/// <summary>Echoes text; throws on "boom" (from the message callback) so tests can see the host contain the fault.</summary>
[ExportProtocol("throwing-protocol")]
public sealed class ThrowingPlugin : ProtocolPlugin<ThrowingHandler>;

public sealed class ThrowingHandler : ProtocolHandler
{
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        var text = message.GetText();
        if (text == "boom")
        {
            throw new InvalidOperationException("boom requested by the client");
        }

        session.TrySend(WebSocketMessageType.Text, message.Data.ToArray());
        return ValueTask.CompletedTask;
    }
}
