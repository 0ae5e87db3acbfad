using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>
/// Keeps the vhost's <c>lws-status</c> clients, newest first, and sends every one of them the document lws sends
/// whenever one connects or disconnects. Nothing is sent periodically; incoming messages are ignored.
/// </summary>
public sealed class LwsStatusHandler : ProtocolHandler
{
    private const int MaxUserAgentLength = 255;

    private readonly IServerStatusSource _server;
    private readonly Lock _gate = new();
    private readonly List<IWebSocketSession> _clients = [];

    /// <summary>Creates the vhost's instance.</summary>
    /// <param name="server">Where the server's version and host name come from.</param>
    public LwsStatusHandler(IServerStatusSource server)
    {
        _server = server;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _clients.Insert(0, session);
            PushToAll();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
    {
        lock (_gate)
        {
            if (_clients.Remove(session))
            {
                PushToAll();
            }
        }

        return ValueTask.CompletedTask;
    }

    private void PushToAll()
    {
        byte[]? overHttp1 = null;
        byte[]? overHttp2 = null;
        foreach (var client in _clients)
        {
            var document = client.IsOverHttp2 ? overHttp2 ??= Render(true) : overHttp1 ??= Render(false);
            client.TrySend(WebSocketMessageType.Text, document);
        }
    }

    private byte[] Render(bool overHttp2)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("version", _server.ServerVersion);
            json.WriteString("wss_over_h2", overHttp2 ? "1" : "0");
            json.WriteString("hostname", _server.HostName);
            json.WriteString("wsi", _clients.Count.ToString(CultureInfo.InvariantCulture));
            json.WriteStartArray("conns");
            foreach (var client in _clients)
            {
                json.WriteStartObject();
                // A session without an IP peer came through a Unix domain socket, the only other kind of listener.
                json.WriteString("peer", client.RemoteEndPoint?.Address.ToString() ?? "unix");
                json.WriteString("time", client.ConnectedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
                json.WriteString("ua", UserAgentOf(client));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string UserAgentOf(IWebSocketSession client)
    {
        var userAgent = client.UserAgent;
        if (string.IsNullOrEmpty(userAgent))
        {
            return "unknown";
        }

        return userAgent.Length <= MaxUserAgentLength ? userAgent : userAgent[..MaxUserAgentLength];
    }
}
