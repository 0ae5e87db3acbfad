using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// Ready: every serving vhost is bound to a listener and every protocol a vhost lists by name is available (no failed
/// or missing plugin). A protocol served only because the vhost serves every plugin does not count: a broken plugin
/// dropped into the folder must not take the server out of its load balancer. Its description names what is not ready.
/// A backplane that is down makes it degraded, not unhealthy (still 200): local members are served, and the outbox
/// holds what goes to the other servers until it is back.
/// </summary>
internal sealed class ReadinessHealthCheck(LwsContext context) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext healthContext, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        foreach (var vhost in context.ServingVhosts())
        {
            if (vhost.EndPoint is null)
            {
                problems.Add($"vhost '{vhost.Name}' is not bound to a listener");
            }

            foreach (var protocol in vhost.Protocols.Where(p => p.Listed && !p.IsAvailable))
            {
                problems.Add($"vhost '{vhost.Name}': protocol '{protocol.Name}': {protocol.UnavailableReason}");
            }
        }

        if (problems.Count > 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(string.Join("; ", problems)));
        }

        var backplane = context.Backplane.GetStatus();
        return Task.FromResult(backplane.State == "down"
            ? HealthCheckResult.Degraded($"every vhost is bound and every protocol available; backplane {backplane.Kind} at {backplane.Endpoint} is down (serving local members, {backplane.Outbox} message(s) held for the other servers)")
            : HealthCheckResult.Healthy("every vhost is bound and every protocol available"));
    }
}
