using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Sdk.Testing;

/// <summary>What a <see cref="ProtocolTestHarness"/> hands the plugin in place of a server: names and services.</summary>
public sealed class ProtocolTestHarnessSettings
{
    /// <summary>The vhost name the handler and its sessions see. Default <c>localhost</c>.</summary>
    public string VhostName { get; init; } = "localhost";

    /// <summary>The subprotocol name the handler and its sessions see. Default <c>test-protocol</c>.</summary>
    public string ProtocolName { get; init; } = "test-protocol";

    /// <summary>The plugin id the handler sees. Default <c>test-plugin</c>.</summary>
    public string PluginId { get; init; } = "test-plugin";

    /// <summary>The clock handed to the handler, e.g. a fake one to drive its timers. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the handler's logs go. Default <see cref="NullLoggerFactory.Instance"/>.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The server status source offered to handlers that take one; none by default.</summary>
    public IServerStatusSource? ServerStatus { get; init; }
}
