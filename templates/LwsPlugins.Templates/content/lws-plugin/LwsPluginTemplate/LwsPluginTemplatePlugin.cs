using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPluginTemplate;

/// <summary>
/// The export the server finds (lws: <c>struct lws_protocols</c>). It creates one <see cref="LwsPluginTemplateHandler"/>
/// per vhost that lists the protocol, with options bound from the manifest's defaults overlaid with the vhost's.
/// </summary>
[ExportProtocol("lws-plugin-protocol")]
public sealed class LwsPluginTemplatePlugin : ProtocolPlugin<LwsPluginTemplateHandler, LwsPluginTemplateOptions>
{
    /// <inheritdoc />
    protected override ValidateOptionsResult Validate(LwsPluginTemplateOptions options)
        => options.Prefix.Length <= LwsPluginTemplateOptions.MaxPrefixLength
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"prefix: at most {LwsPluginTemplateOptions.MaxPrefixLength} characters.");
}
