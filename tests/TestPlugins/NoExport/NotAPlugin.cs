using LwsPlugins.Sdk;

namespace LwsPlugins.TestPlugins.NoExport;

/// <summary>Implements the contract but forgets [ExportProtocol]: the catalog must report "exports no protocol".</summary>
public sealed class NotAPlugin : ProtocolPlugin<NotAHandler>;

public sealed class NotAHandler : ProtocolHandler;
