using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Status;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Host.Vhosts;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Plugins.Reload;

/// <summary>
/// Hot reload of one plugin folder, in one vocabulary: the catalog loads a new <b>generation</b> (or removes the plugin);
/// every vhost that serves its protocols <b>switches</b> to an instance of the new generation; the previous instance
/// <b>retires</b> (takes no new session) and <b>drains</b> (its sessions are handed over, end, or are closed by the
/// policy's deadline) and is disposed; the previous generation retires too, and <b>unloads</b> when its last instance is
/// disposed. Retiring work runs in the background (<see cref="RetirementTracker"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "Disposed asynchronously: DisposeAsync waits for the reload in progress. The semaphore's wait handle is never created, so it holds nothing to release.")]
internal sealed class PluginReloader(
    PluginCatalog catalog,
    VirtualFileSystem vfs,
    VhostTable table,
    VhostLifecycle lifecycle,
    ProtocolInstanceFactory protocols,
    ServerStatusSource status,
    LwsMetrics metrics,
    ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private bool _disposed;
    private readonly ILogger _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");

    /// <summary>
    /// Loads (or unloads) the plugin in one folder of the plugins path and moves every vhost that serves its protocols to
    /// the new generation. A folder whose files did not change, or whose new files fail to load, changes nothing.
    /// </summary>
    public async Task<PluginChange?> ReloadAsync(string directory)
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                // The context is stopping: a change the watcher saw late is not loaded into it.
                return null;
            }

            var change = Directory.Exists(directory) ? catalog.Load(directory) : catalog.Remove(directory);
            if (change is null)
            {
                return null;
            }

            var result = change.Next is null ? "removed" : change.Next.State == PluginGenerationState.Failed ? "failed" : "loaded";
            metrics.PluginReloads.Add(1, new("plugin", change.Entry.Id), new("result", result));
            if (change.SwitchesGeneration)
            {
                SwitchFileProviders(change.Entry, change.Previous, change.Next);
            }

            await lifecycle.WithGateAsync(() =>
            {
                foreach (var vhost in table.Serving)
                {
                    if (change.SwitchesGeneration)
                    {
                        foreach (var protocol in vhost.Protocols)
                        {
                            Switch(vhost, protocol, change);
                        }
                    }

                    protocols.SyncWithCatalog(vhost);
                }
            }).ConfigureAwait(false);

            if (change.SwitchesGeneration)
            {
                change.Previous?.Retire();
            }

            status.NotifyChanged();
            return change;
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// Moves the VFS prefixes of a plugin from its previous generation's providers to the next one's, each prefix in one
    /// step (no request sees it missing in between); prefixes the next generation no longer exports stop being served.
    /// </summary>
    public void SwitchFileProviders(PluginEntry entry, PluginGeneration? previous, PluginGeneration? next)
    {
        var nextProviders = next is { State: PluginGenerationState.Active } ? next.FileProviders : new Dictionary<string, IFileProvider>();
        foreach (var (prefix, provider) in previous?.FileProviders ?? new Dictionary<string, IFileProvider>())
        {
            if (!nextProviders.ContainsKey(prefix))
            {
                vfs.Exchange(prefix, provider, null);
            }
        }

        foreach (var (prefix, provider) in nextProviders)
        {
            if (vfs.Exchange(prefix, previous?.FileProviders.GetValueOrDefault(prefix), provider))
            {
                Log.PluginFileProviderServed(_logger, entry.Id, next!.Number, prefix);
            }
            else
            {
                Log.PluginFileProviderConflict(_logger, entry.Id, prefix);
            }
        }
    }

    /// <summary>One vhost's protocol switches to the new generation (or becomes unavailable with the plugin's removal).</summary>
    private void Switch(Vhost vhost, VhostProtocol protocol, PluginChange change)
    {
        ProtocolExport? export = null;
        var provides = change.Next?.Protocols.TryGetValue(protocol.Name, out export) == true;
        if (!provides && protocol.PluginId != change.Entry.Id)
        {
            return;
        }

        ProtocolInstance? next = null;
        string? reason = null;
        if (export is not null)
        {
            try
            {
                next = protocols.CreateInstance(vhost.Name, protocol.Name, protocol.Options, export);
            }
            catch (Exception ex)
            {
                // The new code cannot serve this vhost (bad options, a throwing constructor): the old instance stays.
                Log.ProtocolCreateFailed(_logger, ex, vhost.Name, change.Entry.Id, protocol.Name);
                return;
            }
        }
        else
        {
            reason = $"plugin '{change.Entry.Id}' was removed.";
        }

        var policy = vhost.Options.ReloadPolicy ?? (change.Next ?? change.Previous)?.Manifest?.ReloadPolicy ?? PluginReloadPolicy.Drain;
        Log.ProtocolReloaded(_logger, vhost.Name, protocol.Name, change.Entry.Id, next?.Generation ?? 0, policy.ToString().ToLowerInvariant());
        protocols.Retirements.Track(ReplaceAsync(vhost, protocol, next, reason, policy));
    }

    /// <summary>Replaces the vhost's instance; a protocol left with no plugin and no instance then leaves a vhost serving every plugin.</summary>
    private async Task ReplaceAsync(Vhost vhost, VhostProtocol protocol, ProtocolInstance? next, string? reason, PluginReloadPolicy policy)
    {
        await InstanceReplacement.ReplaceAsync(vhost, protocol, next, reason, policy).ConfigureAwait(false);
        if (next is null && !protocol.Listed && vhost.State == VhostState.Serving)
        {
            await lifecycle.WithGateAsync(() => protocols.SyncWithCatalog(vhost)).ConfigureAwait(false);
            status.NotifyChanged();
        }
    }

    /// <summary>Waits for a reload in progress (the watcher's last one may still run) and refuses later ones.</summary>
    public async ValueTask DisposeAsync()
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        _disposed = true;
        _reloadGate.Release();
    }
}
