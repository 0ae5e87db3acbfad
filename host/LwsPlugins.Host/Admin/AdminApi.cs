using System.Net;
using System.Security.Cryptography;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Admin;

/// <summary>
/// The admin HTTP API on a loopback port: <c>GET /vhosts</c> lists vhosts with their state, <c>GET /plugins</c> the
/// plugins with their generations and their state, <c>POST /vhosts</c> creates
/// vhosts from a JSON body (the <c>conf.d</c> format, same validation), <c>DELETE /vhosts/{name}</c> destroys one,
/// <c>GET /metrics</c> and <c>GET /status</c> are in <see cref="ObservabilityEndpoints"/>. Every
/// request needs <c>Authorization: Bearer &lt;token&gt;</c>; anything else gets 401 and changes nothing.
/// </summary>
internal sealed class AdminApi : IAsyncDisposable
{
    private readonly ListenSocket _socket;

    private AdminApi(ListenSocket socket) => _socket = socket;

    public IPEndPoint EndPoint => (IPEndPoint)_socket.EndPoint;

    public static AdminApi Start(AdminApiOptions options, LwsContext context, ServerServices server, ILoggerFactory loggerFactory)
    {
        var requested = new IPEndPoint(IPAddress.Parse(options.Address), options.Port);
        var logger = loggerFactory.CreateLogger("LwsPlugins.Host.Admin.AdminApi");
        var app = new ApplicationBuilder(server.Services);

        var expected = Encoding.UTF8.GetBytes(options.Token ?? string.Empty);
        app.Use(async (http, next) =>
        {
            if (!HasToken(http.Request.Headers.Authorization.ToString(), expected))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }

            await next(http).ConfigureAwait(false);
        });

        app.UseRouting();
        app.UseEndpoints(endpoints => MapEndpoints(endpoints, context, logger));
        return new AdminApi(ListenSocket.Start(server, requested, device: null, "admin API", app.Build(), selectTls: null, routeUpgrade: null, logger));
    }

    private static void MapEndpoints(IEndpointRouteBuilder app, LwsContext context, ILogger logger)
    {
        ObservabilityEndpoints.Map(app, context.Observability);
        app.MapGet("/vhosts", () => Results.Json(context.Status.GetSnapshot().Vhosts));
        app.MapGet("/plugins", () => Results.Json(context.Status.GetSnapshot().Plugins));
        app.MapPost("/vhosts", (HttpRequest request, CancellationToken ct) => ApplyAsync(context, logger, "POST /vhosts", request, VhostApplyMode.Create, null, ct));
        app.MapPut("/vhosts/{name}", (string name, HttpRequest request, CancellationToken ct) => ApplyAsync(context, logger, $"PUT /vhosts/{name}", request, VhostApplyMode.Upsert, name, ct));
        app.MapDelete("/vhosts/{name}", async (string name, CancellationToken ct) =>
            await context.DestroyVhostAsync(name, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Results.Json(new { error = $"no vhost named '{name}'" }, statusCode: StatusCodes.Status404NotFound));
    }

    /// <summary>
    /// <c>POST /vhosts</c> creates the body's vhosts (201, or 400 naming the vhost and key); <c>PUT /vhosts/{name}</c>
    /// creates or changes one vhost of the admin API (200; a change keeps its sessions when its endpoint stays).
    /// </summary>
    private static async Task<IResult> ApplyAsync(
        LwsContext context, ILogger logger, string what, HttpRequest request, VhostApplyMode mode, string? name, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        IReadOnlyList<VhostOptions> vhosts;
        try
        {
            vhosts = LwsServerConfigFile.ParseVhosts(body, "request body");
            if (name is not null && (vhosts.Count != 1 || !string.Equals(vhosts[0].Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new LwsConfigurationException($"request body: must be one vhost named '{name}', as the path says.");
            }
        }
        catch (LwsConfigurationException ex)
        {
            Log.AdminRequestRefused(logger, what, ex.Message);
            return Results.Json(new { error = ex.Message }, statusCode: StatusCodes.Status400BadRequest);
        }

        var result = await context.ApplyAsync(VhostSources.Admin, vhosts, mode, ct).ConfigureAwait(false);
        if (result.Errors is { Count: > 0 } errors)
        {
            // The engine logged each refusal with its vhost (events 210, 213).
            return Results.Json(new { error = string.Join(" ", errors) }, statusCode: StatusCodes.Status400BadRequest);
        }

        var applied = result.Outcomes.Select(o => new { name = o.Name, listen = context.GetListenAddress(o.Name) ?? o.EndPoint?.ToString(), action = o.Action.ToString().ToLowerInvariant() });
        return Results.Json(applied, statusCode: mode == VhostApplyMode.Create ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    public ValueTask DisposeAsync() => _socket.DisposeAsync();

    /// <summary>RFC 9110 §11.1: the scheme is case-insensitive (<c>bearer</c> too); the token is compared in constant time.</summary>
    internal static bool HasToken(string authorization, byte[] expected)
    {
        const string Scheme = "Bearer ";
        return authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization[Scheme.Length..]), expected);
    }
}
