using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.DumbIncrement;

/// <summary>lws's <c>dumb-increment-protocol</c>: a per-session counter sent every tick.</summary>
[ExportProtocol("dumb-increment-protocol")]
public sealed class DumbIncrementPlugin : ProtocolPlugin<DumbIncrementHandler, DumbIncrementOptions>
{
    /// <inheritdoc />
    protected override ValidateOptionsResult Validate(DumbIncrementOptions options)
        => options.IntervalMs is >= 1 and <= 60_000
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"intervalMs must be between 1 and 60000, was {options.IntervalMs}.");
}
