using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>
/// <c>lws-server-status</c>: our richer document about the whole server (vhosts, protocols, sessions, plugin
/// generations, traffic, uptime), sent on connect and then every <see cref="ServerStatusOptions.UpdateMs"/>.
/// </summary>
[ExportProtocol("lws-server-status", PerMessageDeflate = true)]
public sealed class ServerStatusPlugin : ProtocolPlugin<ServerStatusHandler, ServerStatusOptions>
{
    /// <inheritdoc />
    protected override ValidateOptionsResult Validate(ServerStatusOptions options)
        => options.UpdateMs is >= 50 and <= 3_600_000
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"updateMs must be between 50 and 3600000, was {options.UpdateMs}.");
}
