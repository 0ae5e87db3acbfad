namespace LwsPlugins.Sdk;

/// <summary>
/// A protocol export that can check its options without creating a handler. <see cref="ProtocolPlugin{THandler, TOptions}"/>
/// implements it. The host calls it when a plugin generation loads, with the manifest's default options only, so that
/// defaults that do not bind or validate fail that generation (the one serving before stays), instead of failing on
/// every vhost later.
/// </summary>
public interface IProtocolOptionsValidator
{
    /// <summary>Binds and validates the options <paramref name="context"/> gives, as <see cref="IProtocolPlugin.CreateHandler"/> would.</summary>
    /// <param name="context">The names and options to check; no handler is created.</param>
    /// <exception cref="ProtocolOptionsException">The options do not bind or validate; the message names the key and the value.</exception>
    void ValidateOptions(IProtocolContext context);
}
