using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Sdk;

/// <summary>One whole WebSocket message as received from a client.</summary>
/// <param name="Type">Text or binary.</param>
/// <param name="Data">The payload; valid only during the callback that received it.</param>
public readonly record struct WebSocketMessage(WebSocketMessageType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Whether the message is a text message (its payload is valid UTF-8).</summary>
    public bool IsText => Type == WebSocketMessageType.Text;

    /// <summary>Decodes the payload as UTF-8.</summary>
    /// <returns>The payload as a string.</returns>
    public string GetText() => Encoding.UTF8.GetString(Data.Span);
}
