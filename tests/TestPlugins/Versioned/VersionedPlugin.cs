using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Sdk;

namespace LwsPlugins.TestPlugins.Versioned;

/// <summary>Echoes text prefixed with its build's version ("v1:" or "v2:"), so tests see which generation serves a session.</summary>
[ExportProtocol("versioned-protocol")]
public sealed class VersionedPlugin : ProtocolPlugin<VersionedHandler>;

public sealed class VersionedHandler : ProtocolHandler
{
#if V2
    private const string Prefix = "v2:";
#else
    private const string Prefix = "v1:";
#endif

    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        session.TrySend(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(Prefix + message.GetText()));
        return ValueTask.CompletedTask;
    }
}
