namespace LwsPlugins.Sdk;

/// <summary>
/// The metadata view of an <see cref="ExportProtocolAttribute"/> export, as the host reads it.
/// Plugin authors do not use this type directly.
/// </summary>
public sealed class ProtocolExportMetadata
{
    /// <summary>The subprotocol name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Whether permessage-deflate may be negotiated.</summary>
    public bool PerMessageDeflate { get; set; }
}
