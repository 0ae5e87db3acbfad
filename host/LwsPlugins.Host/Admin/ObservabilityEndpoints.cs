using LwsPlugins.Host.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace LwsPlugins.Host.Admin;

/// <summary>
/// <c>GET /metrics</c> (Prometheus text, the <c>lws_*</c> series) and <c>GET /status</c> (the
/// <c>lws-server-status</c> document as JSON) on the admin API, behind its token like every admin endpoint.
/// </summary>
internal static class ObservabilityEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints, Observability observability)
    {
        observability.StartMetrics();
        endpoints.MapGet("/metrics", observability.WriteMetricsAsync);
        endpoints.MapGet("/status", observability.WriteStatusAsync);
    }
}
