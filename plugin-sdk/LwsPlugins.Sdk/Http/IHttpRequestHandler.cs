namespace LwsPlugins.Sdk.Http;

/// <summary>
/// Implemented by a protocol's handler (the <see cref="IProtocolHandler"/> its plugin creates for a vhost) that also
/// answers HTTP requests (lws: <c>LWS_CALLBACK_HTTP</c> on a <c>callback://&lt;protocol&gt;</c> mount). A vhost mount with
/// the origin <c>callback://&lt;protocol name&gt;</c> hands every request under its mount point to this method.
/// </summary>
/// <remarks>
/// Requests may run concurrently with each other and with the handler's WebSocket callbacks. An exception answers 500
/// (or aborts the response once it has started) and is logged with the plugin id; the host and the other requests carry on.
/// A request that does not complete within the vhost's <c>callbackTimeoutMs</c> is answered 504 (or aborted) and reported.
/// </remarks>
public interface IHttpRequestHandler
{
    /// <summary>Answers one HTTP request under a <c>callback://</c> mount.</summary>
    /// <param name="exchange">The request and its response.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away, the request times out, or the vhost is destroyed.</param>
    /// <returns>A task that completes when the response is written.</returns>
    ValueTask HandleHttpAsync(IHttpExchange exchange, CancellationToken cancellationToken);
}
