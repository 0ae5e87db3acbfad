using System.Text.Json;
using LwsPlugins.Host.Backplane;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Host.Status;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Makes a vhost's protocol bindings (lws: PROTOCOL_INIT): for each protocol an instance of its plugin's active
/// generation, bound to the vhost's options over the manifest's defaults, or the protocol unavailable with the reason.
/// Also the catalog's load check of a new generation's default options, and the sync of a vhost that serves every plugin.
/// </summary>
internal sealed class ProtocolInstanceFactory(
    ILoggerFactory loggerFactory, TimeProvider time, BackplaneBase backplane, ProtocolInstanceCounter counter)
{
    /// <summary>The vhost name a plugin's options validation sees while its new generation is checked.</summary>
    private const string ProtocolCheckVhost = "(plugin load check)";

    private readonly ILogger _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");

    // The catalog checks new generations with this factory and the status source reads the catalog: both are made
    // after the factory, and given to it once, before anything is loaded.
    private PluginCatalog _catalog = null!;
    private ServerStatusSource _status = null!;

    public void Bind(PluginCatalog catalog, ServerStatusSource status)
    {
        _catalog = catalog;
        _status = status;
    }

    /// <summary>Every protocol a definition serves: the listed ones, then (when it serves every plugin) the catalog's.</summary>
    /// <exception cref="LwsConfigurationException">A listed protocol's options do not bind.</exception>
    public async Task<List<VhostProtocol>> CreateProtocolsAsync(VhostOptions options)
    {
        var protocols = new List<VhostProtocol>();
        try
        {
            foreach (var selection in options.Protocols ?? [])
            {
                if (!selection.IsAllPlugins)
                {
                    protocols.Add(CreateProtocol(options.Name, selection, listed: true));
                }
            }

            if (options.ServesAllPlugins)
            {
                // A callback mount may name a protocol whose plugin has not arrived yet: it waits, unavailable, for it.
                foreach (var name in AllPluginProtocols(options))
                {
                    if (!protocols.Exists(p => p.Name == name))
                    {
                        protocols.Add(CreateProtocol(options.Name, new ProtocolSelection(name), listed: false));
                    }
                }
            }
        }
        catch
        {
            await DisposeAsync(protocols).ConfigureAwait(false);
            throw;
        }

        return protocols;
    }

    /// <summary>The protocols a definition serving every plugin gets beside its listed ones: the catalog's and its callback mounts'.</summary>
    public IEnumerable<string> AllPluginProtocols(VhostOptions options)
        => _catalog.ProtocolNames.Concat(options.CallbackProtocols).Distinct(StringComparer.Ordinal);

    /// <summary>Disposes the instances of bindings that were made but will not serve (a failed create or change).</summary>
    public static async Task DisposeAsync(IEnumerable<VhostProtocol> protocols)
    {
        foreach (var instance in protocols.SelectMany(p => p.Instances))
        {
            await instance.DisposeHandlerAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A vhost's binding of one protocol: an instance of the active generation, or unavailable with the reason. Options a
    /// listed protocol's vhost entry gives that do not bind fail the vhost (its configuration is wrong); a protocol served
    /// because the vhost serves every plugin has only its manifest's defaults, already checked when it loaded.
    /// </summary>
    public VhostProtocol CreateProtocol(string vhostName, ProtocolSelection selection, bool listed)
    {
        if (!_catalog.TryGetProtocol(selection.Name, out var export))
        {
            var reason = _catalog.GetUnavailableReason(selection.Name);
            Log.ProtocolUnavailable(_logger, vhostName, selection.Name, reason);
            return new VhostProtocol(selection.Name, selection.Options, null, reason, listed);
        }

        try
        {
            return new VhostProtocol(selection.Name, selection.Options, CreateInstance(vhostName, selection.Name, selection.Options, export, selection.Lines), null, listed);
        }
        catch (ProtocolOptionsException ex) when (listed)
        {
            throw OptionsRefused(vhostName, selection.Name, ex);
        }
        catch (Exception ex)
        {
            Log.ProtocolCreateFailed(_logger, ex, vhostName, export.Generation.PluginId, selection.Name);
            return new VhostProtocol(selection.Name, selection.Options, null, $"plugin '{export.Generation.PluginId}' failed to create it: {ex.Message}", listed);
        }
    }

    /// <summary>
    /// An instance for a changed definition of a protocol the vhost serves already: of the same export (generation) as
    /// its current one, or the catalog's active one; null when the protocol has no plugin now.
    /// </summary>
    /// <exception cref="LwsConfigurationException">The new options do not bind, or the plugin refuses them.</exception>
    public ProtocolInstance? CreateReplacement(string vhostName, VhostProtocol protocol, ProtocolSelection selection)
    {
        if (!_catalog.TryGetProtocol(protocol.Name, out var export))
        {
            return null;
        }

        try
        {
            return CreateInstance(vhostName, protocol.Name, selection.Options, export, selection.Lines);
        }
        catch (ProtocolOptionsException ex)
        {
            throw OptionsRefused(vhostName, protocol.Name, ex);
        }
        catch (Exception ex)
        {
            Log.ProtocolCreateFailed(_logger, ex, vhostName, export.Generation.PluginId, protocol.Name);
            throw new LwsConfigurationException($"vhost '{vhostName}': protocols.{protocol.Name}: plugin '{export.Generation.PluginId}' failed to create it with the new options: {ex.Message}", ex);
        }
    }

    /// <summary>A vhost's options the plugin refused, as a configuration error that names the vhost and the protocol once.</summary>
    private static LwsConfigurationException OptionsRefused(string vhostName, string protocolName, ProtocolOptionsException ex)
        => new(ex.Message.StartsWith($"vhost '{vhostName}'", StringComparison.Ordinal) ? ex.Message : $"vhost '{vhostName}': protocols.{protocolName}: {ex.Message}", ex);

    /// <summary>Creates a vhost's instance of a protocol from one plugin generation (lws: PROTOCOL_INIT).</summary>
    public ProtocolInstance CreateInstance(string vhostName, string protocolName, JsonElement? options, ProtocolExport export, ProtocolOptionLines? lines = null)
    {
        // What the instance gets that must not outlive it (timers, status subscriptions) is disposed with it.
        var instanceTime = new InstanceTimeProvider(time);
        var status = new InstanceStatusSource(_status);
        var instanceBackplane = new InstanceBackplane(backplane, vhostName, protocolName);
        var owned = new OwnedResources(instanceTime, status, instanceBackplane);
        var context = new ProtocolContext(
            vhostName, protocolName, export.Generation.PluginId, export.DefaultOptions, options, loggerFactory, instanceTime, status, instanceBackplane,
            defaultOptionsSource: DefaultOptionsSource(export), vhostOptionLines: lines);
        try
        {
            return new ProtocolInstance(export, export.Plugin.CreateHandler(context), counter, owned);
        }
        catch
        {
            // What the failed constructor left (timers, subscriptions) is released without blocking; the context's
            // disposal waits for it as for a retirement.
            Retirements.Track(owned.DisposeAsync().AsTask());
            throw;
        }
    }

    /// <summary>Where work that outlives its caller is tracked (the context awaits it when disposed).</summary>
    public Plugins.Reload.RetirementTracker Retirements { get; } = new();

    /// <summary>
    /// The catalog's check of a new generation: binds and validates the protocol's options from the manifest's defaults
    /// alone, as a vhost serving every plugin would create it, without creating a handler. Returns why they fail.
    /// </summary>
    public string? CheckProtocol(ProtocolExport export)
    {
        if (export.Plugin is not IProtocolOptionsValidator validator)
        {
            return null;
        }

        var context = new ProtocolContext(
            ProtocolCheckVhost, export.Name, export.Generation.PluginId, export.DefaultOptions, null, loggerFactory, time, _status,
            defaultOptionsSource: DefaultOptionsSource(export));
        try
        {
            validator.ValidateOptions(context);
            return null;
        }
        catch (ProtocolOptionsException ex)
        {
            return ex.Message;
        }
        catch (Exception ex)
        {
            return $"the plugin cannot check the protocol's default options: {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Where a protocol's default options are written, for messages: the manifest file and the key.</summary>
    private static string? DefaultOptionsSource(ProtocolExport export)
        => export.Generation.Manifest is { } manifest
            ? $"{manifest.FilePath}: protocols[{manifest.Protocols.ToList().FindIndex(p => p.Name == export.Name)}].options"
            : null;

    /// <summary>
    /// Brings a vhost that serves every plugin in line with the catalog: a protocol the catalog gained is added (served,
    /// or unavailable with its plugin's failure), and one whose plugin is gone leaves once its last instance retired.
    /// Called under the lifecycle's gate.
    /// </summary>
    public void SyncWithCatalog(Vhost vhost)
    {
        if (!vhost.Options.ServesAllPlugins)
        {
            return;
        }

        var names = _catalog.ProtocolNames;
        foreach (var name in names)
        {
            if (!vhost.Protocols.Any(p => p.Name == name))
            {
                var protocol = CreateProtocol(vhost.Name, new ProtocolSelection(name), listed: false);
                vhost.AddProtocol(protocol);
                Log.VhostServesPluginProtocol(_logger, vhost.Name, name, protocol.IsAvailable ? $"plugin '{protocol.PluginId}' generation {protocol.Generation}" : protocol.UnavailableReason!);
            }
        }

        var callbackProtocols = vhost.Options.CallbackProtocols.ToHashSet(StringComparer.Ordinal);
        foreach (var protocol in vhost.Protocols)
        {
            if (!protocol.Listed && !protocol.IsAvailable && protocol.Instances.Count == 0 && !names.Contains(protocol.Name) && !callbackProtocols.Contains(protocol.Name))
            {
                vhost.RemoveProtocol(protocol);
                Log.VhostStoppedServingPluginProtocol(_logger, vhost.Name, protocol.Name);
            }
        }
    }
}
