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
    /// Binds the protocol's options for this vhost onto <paramref name="options"/>: the vhost's settings merged onto the
    /// manifest's defaults by key (objects merge key by key, lists and values replace), matched to property names
    /// case-insensitively, and nothing taken silently: an unknown key, a value of the wrong kind (a string or an object
    /// for a number, a fraction for a whole number), a number outside the property's type, or <c>null</c> for a property
    /// that is not nullable is refused with the key, the value and where it is written.
    /// </summary>
    /// <param name="options">The options object to fill.</param>
    /// <exception cref="ProtocolOptionsException">A key or value is refused; the message names the vhost (or manifest), the key and why.</exception>
    void BindOptions(object options);
}
