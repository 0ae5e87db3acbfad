using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Plugins.Reload;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Applying a desired state (YARP's <c>IProxyConfigProvider</c> is the model): a source (the configuration files, the
/// admin API, a test) gives the definitions it wants; they are all validated first, then the differences are applied
/// one vhost at a time. A changed vhost is changed in place when its endpoint stays (protocol options: a new instance
/// with the state handed over, as a plugin reload does; mounts, limits, certificate: swapped), keeping its sessions.
/// Only a new endpoint re-creates it, and then the new vhost is built before the old one goes: a definition that fails
/// leaves the old vhost serving, and the error is reported with its vhost and key.
/// </summary>
internal sealed partial class VhostLifecycle
{
    private static readonly JsonSerializerOptions s_canonical = new() { Converters = { new JsonStringEnumConverter() } };
    private readonly SemaphoreSlim _applyGate = new(1, 1);

    public async Task<VhostApplyResult> ApplyAsync(string source, IReadOnlyList<VhostOptions> definitions, VhostApplyMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var outcomes = new List<VhostApplyOutcome>();
            var valid = Validate(source, definitions, mode, outcomes);
            if (mode == VhostApplyMode.Replace)
            {
                var wanted = new HashSet<string>(definitions.Select(d => d.Name), StringComparer.OrdinalIgnoreCase);
                foreach (var vhost in table.Serving.Where(v => v.Source == source && !wanted.Contains(v.Name)))
                {
                    if (await DestroyAsync(vhost.Name, cancellationToken).ConfigureAwait(false))
                    {
                        outcomes.Add(new VhostApplyOutcome(vhost.Name, VhostApplyAction.Destroyed, null));
                    }
                }
            }

            foreach (var definition in valid)
            {
                outcomes.Add(await ApplyOneAsync(source, definition, cancellationToken).ConfigureAwait(false));
            }

            return new VhostApplyResult(outcomes);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>Every definition checked before anything changes; the refused ones are reported, the rest returned.</summary>
    private List<VhostOptions> Validate(string source, IReadOnlyList<VhostOptions> definitions, VhostApplyMode mode, List<VhostApplyOutcome> outcomes)
    {
        var valid = new List<VhostOptions>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in definitions)
        {
            var existing = table.Find(definition.Name);
            var errors = VhostOptionsValidator.Validate(definition, options.HandshakeTimeoutMs);
            string? error = errors.Count > 0 ? string.Join(" ", errors)
                : !seen.Add(definition.Name) ? $"vhost '{definition.Name}': name: is defined twice in the set; the second is ignored."
                : existing is not null && (mode == VhostApplyMode.Create || existing.Source != source)
                    ? $"vhost '{definition.Name}': name: a vhost of that name exists already{(existing.Source == source ? "" : $" ({existing.Source})")}."
                : null;
            if (error is null)
            {
                valid.Add(definition);
            }
            else
            {
                Log.VhostNotChanged(_logger, definition.Name, error);
                outcomes.Add(new VhostApplyOutcome(definition.Name, VhostApplyAction.Refused, existing?.EndPoint, error));
            }
        }

        return valid;
    }

    private async Task<VhostApplyOutcome> ApplyOneAsync(string source, VhostOptions definition, CancellationToken cancellationToken)
    {
        var existing = table.Find(definition.Name);
        try
        {
            if (existing is null)
            {
                return new VhostApplyOutcome(definition.Name, VhostApplyAction.Created, await CreateAsync(definition, source, cancellationToken).ConfigureAwait(false));
            }

            if (Canonical(existing.Options) == Canonical(definition) && ReferenceEquals(existing.Options.Tls?.ServerCertificate, definition.Tls?.ServerCertificate))
            {
                return new VhostApplyOutcome(definition.Name, VhostApplyAction.Unchanged, existing.EndPoint);
            }

            return EndPointChange(existing.Options, definition) is { } reason
                ? new VhostApplyOutcome(definition.Name, VhostApplyAction.Recreated, await RecreateAsync(existing, definition, reason, cancellationToken).ConfigureAwait(false))
                : new VhostApplyOutcome(definition.Name, VhostApplyAction.Updated, await UpdateAsync(existing, definition, cancellationToken).ConfigureAwait(false));
        }
        catch (LwsConfigurationException ex)
        {
            if (existing is not null)
            {
                Log.VhostNotChanged(_logger, definition.Name, ex.Message);
            }

            return new VhostApplyOutcome(definition.Name, VhostApplyAction.Refused, table.Find(definition.Name)?.EndPoint, ex.Message);
        }
    }

    private static string Canonical<T>(T value) => JsonSerializer.Serialize(value, s_canonical);

    /// <summary>Why a change needs a new vhost (its listen socket changes), or null when it can be made in place.</summary>
    private static string? EndPointChange(VhostOptions current, VhostOptions next)
    {
        if (!string.Equals(current.Address, next.Address, StringComparison.Ordinal) || current.Port != next.Port)
        {
            return $"{current.Address}:{current.Port} to {next.Address}:{next.Port}";
        }

        if ((current.Tls is null) != (next.Tls is null))
        {
            return next.Tls is null ? "TLS off" : "TLS on";
        }

        if (current.BindInterface != next.BindInterface)
        {
            return "bindInterface";
        }

        if (!string.Equals(current.UnixSocket, next.UnixSocket, StringComparison.Ordinal)
            || !string.Equals(current.UnixSocketMode, next.UnixSocketMode, StringComparison.Ordinal)
            || !string.Equals(current.UnixSocketOwner, next.UnixSocketOwner, StringComparison.Ordinal))
        {
            return "unixSocket";
        }

        return current.Tls?.RedirectHttpPort != next.Tls?.RedirectHttpPort ? "tls.redirectHttpPort" : null;
    }

    /// <summary>Changes a vhost in place: everything fallible is built first, then each part is swapped; sessions stay.</summary>
    private async Task<EndPoint> UpdateAsync(Vhost vhost, VhostOptions next, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = vhost.Options;
            var tls = vhost.Tls;
            var newTls = next.Tls is { } tlsOptions && (Canonical(current.Tls) != Canonical(next.Tls) || !ReferenceEquals(current.Tls?.ServerCertificate, tlsOptions.ServerCertificate))
                ? VhostTls.Load(next.Name, tlsOptions, baseDirectory, time)
                : null;
            if (newTls is not null)
            {
                newTls.RedirectEndPoint = tls?.RedirectEndPoint;
            }

            (newTls ?? tls)?.OffersHttp2 = next.Http2;

            var plan = ProtocolPlan.Make(vhost, next, protocols);
            VhostHttpPipeline pipeline;
            try
            {
                plan.Prepare();
                var server = await listeners.GetServerAsync(cancellationToken).ConfigureAwait(false);
                pipeline = VhostHttpPipeline.Build(vhost, next, plan.Result, server.Services, baseDirectory, vfs, vhost.Logger);
            }
            catch
            {
                await plan.AbandonAsync().ConfigureAwait(false);
                newTls?.Dispose();
                throw;
            }

            // From here nothing fails: each part is swapped in one step.
            plan.Commit(vhost, protocols.Retirements);
            vhost.Reconfigure(next, pipeline, newTls ?? tls);
            Log.VhostUpdated(_logger, vhost.Name, vhost.SessionCount, Describe(current, next, plan, newTls is not null));
            status.NotifyChanged();
            return vhost.EndPoint!;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string Describe(VhostOptions current, VhostOptions next, ProtocolPlan plan, bool certificate)
    {
        var parts = new List<string>(plan.Describe());
        if (Canonical(current.Mounts) != Canonical(next.Mounts))
        {
            parts.Add("mounts");
        }

        if (certificate)
        {
            parts.Add("TLS certificate");
        }

        if (parts.Count == 0)
        {
            parts.Add("settings");
        }

        return string.Join(", ", parts);
    }

    /// <summary>
    /// Re-creates a vhost whose endpoint changed: the new one is built and listening before the old one is unlisted,
    /// then they swap in the table in one step and the old one is destroyed. When the new endpoint is the old one's own
    /// port (TLS or the device changed), it cannot be bound beside it: the old vhost goes first, and if the new one then
    /// fails, the old definition is created again.
    /// </summary>
    private async Task<EndPoint> RecreateAsync(Vhost old, VhostOptions next, string reason, CancellationToken cancellationToken)
    {
        if (SharesOwnSocket(old, next))
        {
            await DestroyAsync(old.Name, cancellationToken).ConfigureAwait(false);
            try
            {
                var endPoint = await CreateAsync(next, old.Source, cancellationToken).ConfigureAwait(false);
                Log.VhostRecreated(_logger, next.Name, ListenEndPoints.Display(endPoint), reason);
                return endPoint;
            }
            catch (LwsConfigurationException)
            {
                await CreateAsync(old.Options, old.Source, cancellationToken).ConfigureAwait(false);
                throw;
            }
        }

        Vhost vhost;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            vhost = await BuildAsync(next, old.Source, cancellationToken).ConfigureAwait(false);
            table.Swap(old, vhost);
            listeners.Detach(old);
        }
        finally
        {
            _gate.Release();
        }

        Served(vhost);
        Log.VhostRecreated(_logger, vhost.Name, ListenEndPoints.Display(vhost.EndPoint!), reason);
        await StopAndScheduleFreeAsync(old).ConfigureAwait(false);
        return vhost.EndPoint!;
    }

    /// <summary>Whether the new definition needs the very socket the old vhost listens on (same address and fixed port).</summary>
    private static bool SharesOwnSocket(Vhost old, VhostOptions next)
        => next.UnixSocket is null && next.Port != 0 && old.EndPoint is IPEndPoint endPoint && endPoint.Port == next.Port
            && ListenAddressResolver.Resolve(next.Name, next.Address).Equals(endPoint.Address);
}
