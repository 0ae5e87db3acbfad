using System.Text;
using System.Text.Json;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Configuration;
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
        string? defaultOptionsSource = null)
    {
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

    public void BindOptions(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ConfigurationBuilder();
        foreach (var (layer, source) in new[] { (_defaultOptions, _defaultOptionsSource), (_vhostOptions, $"vhost '{VhostName}': protocols.{ProtocolName}") })
        {
            if (layer is { ValueKind: JsonValueKind.Object } json)
            {
                // Each layer on its own, so the message names the file or vhost the bad value is in.
                if (ProtocolOptionsCheck.Find(options.GetType(), json) is { } problem)
                {
                    throw new ProtocolOptionsException($"{source}.{problem}");
                }

                builder.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json.GetRawText())));
            }
        }

        try
        {
            builder.Build().Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new ProtocolOptionsException(
                $"Invalid options for protocol '{ProtocolName}' on vhost '{VhostName}': {ex.Message}", ex);
        }
    }
}
