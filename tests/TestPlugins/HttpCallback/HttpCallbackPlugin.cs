using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Http;
using Microsoft.Extensions.Options;

namespace LwsPlugins.TestPlugins.HttpCallback;

public sealed class HttpCallbackOptions
{
    public string Greeting { get; set; } = "";
}

/// <summary>A protocol whose handler also answers HTTP on a callback:// mount, so tests can see what the host hands it.</summary>
[ExportProtocol("http-callback-protocol")]
public sealed class HttpCallbackPlugin : ProtocolPlugin<HttpCallbackHandler, HttpCallbackOptions>;

public sealed class HttpCallbackHandler(IOptions<HttpCallbackOptions> options) : ProtocolHandler, IHttpRequestHandler
{
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        session.TrySend(WebSocketMessageType.Text, message.Data.ToArray());
        return ValueTask.CompletedTask;
    }

    public async ValueTask HandleHttpAsync(IHttpExchange exchange, CancellationToken cancellationToken)
    {
        switch (exchange.Path)
        {
            case "/throw":
                throw new InvalidOperationException("the plugin failed on purpose");
            case "/throw-after-start":
                await exchange.ResponseBody.WriteAsync("partial"u8.ToArray(), cancellationToken);
                await exchange.ResponseBody.FlushAsync(cancellationToken);
                throw new InvalidOperationException("the plugin failed after starting the response");
            case "/block":
                // Deliberately synchronous: blocks the thread until the host gives up on the request (at most a minute).
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
                return;
        }

        string body;
        using (var reader = new StreamReader(exchange.RequestBody, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(cancellationToken);
        }

        exchange.StatusCode = exchange.GetQueryParameter("status") is { } status ? int.Parse(status, CultureInfo.InvariantCulture) : 200;
        exchange.SetResponseHeader("Content-Type", "text/plain; charset=utf-8");
        exchange.SetResponseHeader("X-Plugin", "http-callback");
        var text = string.Join(
            "\n",
            $"greeting={options.Value.Greeting}",
            $"vhost={exchange.VhostName}",
            $"method={exchange.Method}",
            $"mount={exchange.MountPoint}",
            $"path={exchange.Path}",
            $"query={exchange.QueryString}",
            $"name={exchange.GetQueryParameter("name")}",
            $"header={exchange.GetRequestHeader("X-Test")}",
            $"remote={exchange.RemoteEndPoint?.Address}",
            $"body={body}");
        await exchange.ResponseBody.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }
}
