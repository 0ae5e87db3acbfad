namespace LwsPlugins.Sdk;

/// <summary>What the host hands a plugin when it creates the protocol's instance for one vhost.</summary>
public interface IProtocolContext
{
    /// <summary>The name of the vhost the instance serves.</summary>
    string VhostName { get; }

    /// <summary>The subprotocol name the instance serves.</summary>
    string ProtocolName { get; }

    /// <summary>The id of the plugin (from its manifest).</summary>
    string PluginId { get; }

    /// <summary>
    /// Services the host offers to protocol instances: <see cref="Microsoft.Extensions.Logging.ILoggerFactory"/>,
    /// <see cref="TimeProvider"/>, <see cref="Status.IServerStatusSource"/>, <see cref="IFanOutBackplane"/> (groups across
    /// servers) and this <see cref="IProtocolContext"/>.
    /// Nothing of the plugin is registered in the host's own container.
    /// </summary>
    IServiceProvider Services { get; }

    /// <summary>
    /// Binds the protocol's options for this vhost (the manifest's defaults overlaid with the vhost's settings) onto
    /// <paramref name="options"/>, matching property names case-insensitively.
    /// </summary>
    /// <param name="options">The options object to fill.</param>
    /// <exception cref="ProtocolOptionsException">A value cannot be converted to the property's type.</exception>
    void BindOptions(object options);
}
