using Microsoft.Extensions.DependencyInjection;

namespace LwsPlugins.Sdk;

/// <summary>
/// A protocol export whose per-vhost handler is <typeparamref name="THandler"/>, created with
/// <see cref="ActivatorUtilities"/> over the services of <see cref="IProtocolContext.Services"/>.
/// </summary>
/// <typeparam name="THandler">The handler type; its constructor may take any service the host offers.</typeparam>
public abstract class ProtocolPlugin<THandler> : IProtocolPlugin
    where THandler : IProtocolHandler
{
    /// <inheritdoc />
    public virtual IProtocolHandler CreateHandler(IProtocolContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ActivatorUtilities.CreateInstance<THandler>(context.Services);
    }
}
