using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Plugins.Reload;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// How a changed definition changes a vhost's protocols: each protocol kept, added, given new options (a new instance
/// beside the current one), re-listed, or removed. <see cref="Prepare"/> makes every new instance (what can fail) before
/// <see cref="Commit"/> changes anything; a replaced or removed instance retires as in a plugin reload, its sessions
/// handed over to the new instance when the plugin supports it, otherwise kept on the old one until they end (within the
/// vhost's drain timeout).
/// </summary>
internal sealed class ProtocolPlan
{
    private readonly List<Step> _steps = [];
    private readonly ProtocolInstanceFactory _factory;
    private readonly string _vhostName;

    private enum Kind
    {
        Keep,
        Add,
        Reconfigure,
        Relist,
        Remove,
    }

    private sealed class Step(Kind kind, ProtocolSelection selection, bool listed, VhostProtocol? current)
    {
        public ProtocolSelection Selection { get; } = selection;

        public Kind Kind { get; } = kind;

        public string Name => Selection.Name;

        public JsonElement? Options => Selection.Options;

        public bool Listed { get; } = listed;

        public VhostProtocol? Current { get; } = current;

        /// <summary>A new binding (<see cref="Kind.Add"/>).</summary>
        public VhostProtocol? Added { get; set; }

        /// <summary>The new instance of a reconfigured binding; null when its plugin is not loaded now.</summary>
        public ProtocolInstance? Next { get; set; }
    }

    private ProtocolPlan(string vhostName, ProtocolInstanceFactory factory)
    {
        _vhostName = vhostName;
        _factory = factory;
    }

    public static ProtocolPlan Make(Vhost vhost, VhostOptions next, ProtocolInstanceFactory factory)
    {
        var plan = new ProtocolPlan(vhost.Name, factory);
        var desired = new List<(string Name, ProtocolSelection Selection, bool Listed)>();
        foreach (var selection in next.Protocols ?? [])
        {
            if (!selection.IsAllPlugins)
            {
                desired.Add((selection.Name, selection, true));
            }
        }

        if (next.ServesAllPlugins)
        {
            foreach (var name in factory.AllPluginProtocols(next))
            {
                if (!desired.Exists(d => d.Name == name))
                {
                    desired.Add((name, new ProtocolSelection(name), false));
                }
            }
        }

        var current = vhost.Protocols;
        foreach (var (name, selection, listed) in desired)
        {
            var existing = current.FirstOrDefault(p => p.Name == name);
            var kind = existing is null ? Kind.Add
                : Same(existing.Options, selection.Options) ? (existing.Listed == listed ? Kind.Keep : Kind.Relist)
                : Kind.Reconfigure;
            plan._steps.Add(new Step(kind, selection, listed, existing));
        }

        foreach (var existing in current.Where(p => !desired.Exists(d => d.Name == p.Name)))
        {
            plan._steps.Add(new Step(Kind.Remove, new ProtocolSelection(existing.Name), existing.Listed, existing));
        }

        return plan;
    }

    private static bool Same(JsonElement? a, JsonElement? b)
        => a is { } x ? b is { } y && JsonElement.DeepEquals(x, y) : b is null;

    /// <summary>The protocols the vhost serves once the plan is committed, for the new HTTP pipeline's callback mounts.</summary>
    public IReadOnlyList<VhostProtocol> Result
        => [.. _steps.Where(s => s.Kind != Kind.Remove).Select(s => s.Added ?? s.Current!)];

    /// <summary>Makes the new bindings and instances.</summary>
    /// <exception cref="LwsConfigurationException">New options do not bind or the plugin refuses them.</exception>
    public void Prepare()
    {
        foreach (var step in _steps)
        {
            if (step.Kind == Kind.Add)
            {
                step.Added = _factory.CreateProtocol(_vhostName, step.Selection, step.Listed);
            }
            else if (step.Kind == Kind.Reconfigure)
            {
                step.Next = _factory.CreateReplacement(_vhostName, step.Current!, step.Selection);
            }
        }
    }

    /// <summary>Disposes what <see cref="Prepare"/> made: the change is not applied.</summary>
    public async Task AbandonAsync()
    {
        foreach (var step in _steps)
        {
            if (step.Next is not null)
            {
                await step.Next.DisposeHandlerAsync().ConfigureAwait(false);
            }

            if (step.Added is not null)
            {
                await ProtocolInstanceFactory.DisposeAsync([step.Added]).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Applies the plan to the vhost; retiring instances drain in the background, tracked by <paramref name="retirements"/>.</summary>
    public void Commit(Vhost vhost, RetirementTracker retirements)
    {
        foreach (var step in _steps)
        {
            switch (step.Kind)
            {
                case Kind.Add:
                    vhost.AddProtocol(step.Added!);
                    break;
                case Kind.Relist:
                    step.Current!.Reconfigure(step.Options, step.Listed);
                    break;
                case Kind.Reconfigure:
                    step.Current!.Reconfigure(step.Options, step.Listed);
                    if (step.Next is not null || step.Current.IsAvailable)
                    {
                        retirements.Track(InstanceReplacement.ReplaceAsync(
                            vhost, step.Current, step.Next, $"protocol '{step.Name}' has no plugin loaded.", PluginReloadPolicy.Drain));
                    }

                    break;
                case Kind.Remove:
                    retirements.Track(RemoveAsync(vhost, step.Current!));
                    break;
            }
        }
    }

    private static async Task RemoveAsync(Vhost vhost, VhostProtocol protocol)
    {
        await InstanceReplacement.ReplaceAsync(
            vhost, protocol, null, $"the definition of vhost '{vhost.Name}' no longer lists it.", PluginReloadPolicy.Drain).ConfigureAwait(false);
        vhost.RemoveProtocol(protocol);
    }

    /// <summary>What the plan changes, for the log line.</summary>
    public IEnumerable<string> Describe()
    {
        foreach (var group in _steps.Where(s => s.Kind != Kind.Keep).GroupBy(s => s.Kind))
        {
            var names = string.Join(", ", group.Select(s => s.Name));
            yield return group.Key switch
            {
                Kind.Add => $"protocols added ({names})",
                Kind.Remove => $"protocols removed ({names})",
                _ => $"protocol options ({names})",
            };
        }
    }
}
