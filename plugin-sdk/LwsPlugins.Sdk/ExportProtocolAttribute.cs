using System.Composition;

namespace LwsPlugins.Sdk;

/// <summary>
/// Exports a class as the implementation of one WebSocket subprotocol. The host discovers these
/// exports with System.Composition and reads the protocol name from the export's metadata.
/// </summary>
/// <remarks>The class must implement <see cref="IProtocolPlugin"/> and have a public parameterless constructor.</remarks>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ExportProtocolAttribute : ExportAttribute
{
    /// <summary>Exports the attributed class for the subprotocol <paramref name="name"/>.</summary>
    /// <param name="name">The subprotocol name as sent in <c>Sec-WebSocket-Protocol</c>; exact and case-sensitive.</param>
    public ExportProtocolAttribute(string name)
        : base(typeof(IProtocolPlugin))
    {
        Name = name;
    }

    /// <summary>The subprotocol name, matched exactly (case-sensitive) against the client's request.</summary>
    public string Name { get; }

    /// <summary>
    /// Whether the host may negotiate permessage-deflate for sessions of this protocol when the client offers it.
    /// Off by default, as lws does for its test protocols.
    /// </summary>
    public bool PerMessageDeflate { get; set; }
}
