using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Vhosts;

/// <summary>Ignores everything; serves sessions bound to no plugin protocol.</summary>
internal sealed class NullProtocolHandler : ProtocolHandler
{
    public static NullProtocolHandler Instance { get; } = new();
}
