using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>A handler that keeps what its constructor was given, so tests can see what the plugin passed.</summary>
public sealed class TickHandler : ProtocolHandler
{
    public TickHandler(IOptions<TickOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value;
        Time = time;
    }

    public TickOptions Options { get; }

    public TimeProvider Time { get; }
}
