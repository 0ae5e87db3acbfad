using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Sdk;

/// <summary>
/// A protocol export with typed per-vhost options (lws: per-vhost options, <c>pvo</c>). The options are bound from the
/// manifest's defaults overlaid with the vhost's settings, validated by <see cref="Validate"/>, and passed to the
/// handler's constructor as <see cref="IOptions{TOptions}"/>.
/// </summary>
/// <typeparam name="THandler">The handler type.</typeparam>
/// <typeparam name="TOptions">The options type: a class with settable properties and a parameterless constructor.</typeparam>
public abstract class ProtocolPlugin<THandler, TOptions> : IProtocolPlugin, IProtocolOptionsValidator
    where THandler : IProtocolHandler
    where TOptions : class, new()
{
    /// <inheritdoc />
    public IProtocolHandler CreateHandler(IProtocolContext context)
    {
        var options = BindAndValidate(context);
        return ActivatorUtilities.CreateInstance<THandler>(context.Services, Options.Create(options));
    }

    /// <inheritdoc />
    public void ValidateOptions(IProtocolContext context) => BindAndValidate(context);

    private TOptions BindAndValidate(IProtocolContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = new TOptions();
        context.BindOptions(options);
        var result = Validate(options);
        if (result.Failed)
        {
            throw new ProtocolOptionsException(
                $"Invalid options for protocol '{context.ProtocolName}' on vhost '{context.VhostName}': {result.FailureMessage}");
        }

        return options;
    }

    /// <summary>Checks bound options; the default accepts everything.</summary>
    /// <param name="options">The bound options.</param>
    /// <returns><see cref="ValidateOptionsResult.Success"/> or a failure naming each invalid option.</returns>
    protected virtual ValidateOptionsResult Validate(TOptions options) => ValidateOptionsResult.Success;
}
