using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.Mirror;

/// <summary>lws's <c>lws-mirror-protocol</c>: every message goes to every member of the same <c>?mirror=</c> instance.</summary>
[ExportProtocol("lws-mirror-protocol")]
public sealed class MirrorPlugin : ProtocolPlugin<MirrorHandler, MirrorOptions>
{
    /// <inheritdoc />
    protected override ValidateOptionsResult Validate(MirrorOptions options)
    {
        var errors = new List<string>();
        if (options.MaxInstances < 1)
        {
            errors.Add($"maxInstances must be at least 1, was {options.MaxInstances}.");
        }

        if (options.MaxNameLength < 0)
        {
            errors.Add($"maxNameLength must not be negative, was {options.MaxNameLength}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
