using LwsPlugins.Sdk;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>lws's <c>lws-status</c>: the status clients of the vhost, pushed to each of them on every connect and disconnect.</summary>
[ExportProtocol("lws-status", PerMessageDeflate = true)]
public sealed class LwsStatusPlugin : ProtocolPlugin<LwsStatusHandler>;
