using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Sdk;

/// <summary>Conveniences over <see cref="IWebSocketSession"/>.</summary>
public static class WebSocketSessionExtensions
{
    /// <summary>Queues a text message.</summary>
    /// <param name="session">The session.</param>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <returns>As <see cref="IWebSocketSession.TrySend"/>.</returns>
    public static bool TrySendText(this IWebSocketSession session, string text)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.TrySend(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text));
    }
}
