using System.Text.Json;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// What one vhost's protocol instance is given: a small service provider of the services the SDK names (nothing of a
/// plugin enters the host's container) and the manifest's default options overlaid with the vhost's.
/// </summary>
internal sealed class ProtocolContext : IProtocolContext, IServiceProvider
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly IServerStatusSource _status;
    private readonly IFanOutBackplane? _backplane;
    private readonly JsonElement? _defaultOptions;
    private readonly JsonElement? _vhostOptions;
    private readonly string _defaultOptionsSource;
    private readonly ProtocolOptionLines? _vhostOptionLines;

    public ProtocolContext(
        string vhostName,
        string protocolName,
        string pluginId,
        JsonElement? defaultOptions,
        JsonElement? vhostOptions,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IServerStatusSource status,
        IFanOutBackplane? backplane = null,
        string? defaultOptionsSource = null,
        ProtocolOptionLines? vhostOptionLines = null)
    {
        _vhostOptionLines = vhostOptionLines;
        _defaultOptionsSource = defaultOptionsSource ?? $"the manifest of plugin '{pluginId}': protocols.{protocolName}.options";
        VhostName = vhostName;
        ProtocolName = protocolName;
        PluginId = pluginId;
        _defaultOptions = defaultOptions;
        _vhostOptions = vhostOptions;
        _loggerFactory = loggerFactory;
        _time = time;
        _status = status;
        _backplane = backplane;
    }

    public string VhostName { get; }

    public string ProtocolName { get; }

    public string PluginId { get; }

    public IServiceProvider Services => this;

    public object? GetService(Type serviceType)
    {
        if (serviceType == typeof(ILoggerFactory))
        {
            return _loggerFactory;
        }

        if (serviceType == typeof(ILogger))
        {
            return _loggerFactory.CreateLogger($"LwsPlugins.Plugins.{PluginId}");
        }

        if (serviceType == typeof(TimeProvider))
        {
            return _time;
        }

        if (serviceType == typeof(IServerStatusSource))
        {
            return _status;
        }

        if (serviceType == typeof(IFanOutBackplane))
        {
            return _backplane;
        }

        if (serviceType == typeof(IProtocolContext) || serviceType == typeof(IServiceProvider))
        {
            return this;
        }

        return null;
    }

    /// <summary>
    /// The manifest's defaults with the vhost's options merged on by key (objects merge, lists and values replace), bound
    /// strictly: see <see cref="StrictOptionsBinder"/>. A message names the layer (manifest or vhost), the key and, where
    /// known, the file and line.
    /// </summary>
    public void BindOptions(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var layers = new[]
        {
            new ProtocolOptionsLayer(_defaultOptions, _defaultOptionsSource, null),
            new ProtocolOptionsLayer(_vhostOptions, $"vhost '{VhostName}': protocols.{ProtocolName}", _vhostOptionLines),
        };
        foreach (var layer in layers)
        {
            if (layer.Json is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) } json)
            {
                throw new ProtocolOptionsException(layer.Say("", $"must be an object {{ ... }} of options, was {json.ValueKind.ToString().ToLowerInvariant()}"));
            }
        }

        StrictOptionsBinder.Bind(options, ProtocolOptionsLayers.Merge(layers));
    }
}
