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

    /// <summary>Queues a text message once the session's queue has room (see <see cref="IWebSocketSession.SendAsync"/>).</summary>
    /// <param name="session">The session.</param>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <param name="cancellationToken">Stops the wait; the message is then not queued.</param>
    /// <returns>As <see cref="IWebSocketSession.SendAsync"/>.</returns>
    public static ValueTask<bool> SendTextAsync(this IWebSocketSession session, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.SendAsync(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text), cancellationToken);
    }
}
