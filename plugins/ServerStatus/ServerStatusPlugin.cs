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
    {
        var errors = new List<string>();
        if (options.UpdateMs is < 50 or > 3_600_000)
        {
            errors.Add($"updateMs must be between 50 and 3600000, was {options.UpdateMs}.");
        }

        if (options.ChangeCoalesceMs is < 0 or > 60_000)
        {
            errors.Add($"changeCoalesceMs must be between 0 and 60000, was {options.ChangeCoalesceMs}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
