namespace LwsPlugins.Sdk;

/// <summary>
/// The export a plugin assembly provides for each protocol it implements (lws: <c>struct lws_protocols</c>).
/// Mark the implementing class with <see cref="ExportProtocolAttribute"/>. Most plugins derive from
/// <see cref="ProtocolPlugin{THandler}"/> or <see cref="ProtocolPlugin{THandler, TOptions}"/> instead of implementing this directly.
/// </summary>
public interface IProtocolPlugin
{
    /// <summary>
    /// Creates the protocol's instance for one virtual host (lws: <c>LWS_CALLBACK_PROTOCOL_INIT</c>).
    /// The host disposes the returned handler when the vhost or the plugin goes away (lws: <c>LWS_CALLBACK_PROTOCOL_DESTROY</c>).
    /// </summary>
    /// <param name="context">What the host provides to this vhost's instance: services, options and names.</param>
    /// <returns>The per-vhost handler that receives this vhost's sessions of the protocol.</returns>
    /// <exception cref="ProtocolOptionsException">The vhost's options for the protocol are invalid.</exception>
    IProtocolHandler CreateHandler(IProtocolContext context);
}
