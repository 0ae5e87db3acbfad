using System.Net;
using System.Text.Json;
using LwsPlugins.Host.Status;
using LwsPlugins.Sdk.Status;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>What <c>GET /metrics</c> and <c>GET /status</c> answer, on the admin API and on a vhost that asks for them.</summary>
internal sealed class Observability(PrometheusMetrics metrics, IServerStatusSource status)
{
    public Task WriteMetricsAsync(HttpContext http) => metrics.WriteAsync(http);

    /// <summary>A metrics endpoint exists (the admin API, a vhost's <c>metricsPath</c>): the exporter aggregates from now on.</summary>
    public void StartMetrics() => metrics.Start();

    public async Task WriteStatusAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var document = ServerStatusDocument.From(status.GetSnapshot());
        await JsonSerializer.SerializeAsync(http.Response.Body, document, ServerStatusDocumentJsonContext.Default.ServerStatusDocument, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Whether a client address is in an allow-list of addresses and networks (<c>10.0.0.0/8</c>); IPv4-mapped IPv6 counts as IPv4.</summary>
    public static bool IsAllowed(IPAddress? remote, IReadOnlyList<IPNetwork> allowed)
    {
        if (remote is null)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        foreach (var network in allowed)
        {
            if (network.Contains(remote))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads an allow-list entry: an address (one host) or a network in CIDR form.</summary>
    public static bool TryParseAllowed(string text, out IPNetwork network)
    {
        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return IPNetwork.TryParse(text, out network);
    }
}
