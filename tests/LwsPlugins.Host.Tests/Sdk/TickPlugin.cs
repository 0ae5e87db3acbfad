using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>A typed-options plugin that rejects intervals below 10 ms.</summary>
public sealed class TickPlugin : ProtocolPlugin<TickHandler, TickOptions>
{
    public int ValidateCalls { get; private set; }

    protected override ValidateOptionsResult Validate(TickOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateCalls++;
        return options.IntervalMs < 10
            ? ValidateOptionsResult.Fail($"intervalMs must be at least 10, was {options.IntervalMs}.")
            : ValidateOptionsResult.Success;
    }
}
