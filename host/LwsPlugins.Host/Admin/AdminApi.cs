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
        return new AdminApi(ListenSocket.Start(server, requested, device: null, "admin API", app.Build(), selectTls: null, logger));
    }

    private static void MapEndpoints(IEndpointRouteBuilder app, LwsContext context, ILogger logger)
    {
        ObservabilityEndpoints.Map(app, context.Observability);
        app.MapGet("/vhosts", () => Results.Json(context.Status.GetSnapshot().Vhosts));
        app.MapGet("/plugins", () => Results.Json(context.Status.GetSnapshot().Plugins));
        app.MapPost("/vhosts", async (HttpRequest request, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
            IReadOnlyList<VhostOptions> vhosts;
            try
            {
                vhosts = LwsServerConfigFile.ParseVhosts(body, "request body");
            }
            catch (LwsConfigurationException ex)
            {
                Log.AdminRequestRefused(logger, "POST /vhosts", ex.Message);
                return Results.Json(new { error = ex.Message }, statusCode: StatusCodes.Status400BadRequest);
            }

            try
            {
                var created = new List<object>();
                foreach (var vhost in vhosts)
                {
                    var endPoint = await context.CreateVhostAsync(vhost, ct).ConfigureAwait(false);
                    created.Add(new { name = vhost.Name, listen = context.GetListenAddress(vhost.Name) ?? endPoint.ToString() });
                }

                return Results.Json(created, statusCode: StatusCodes.Status201Created);
            }
            catch (LwsConfigurationException ex)
            {
                // The context logged why the vhost was not created (event 210).
                return Results.Json(new { error = ex.Message }, statusCode: StatusCodes.Status400BadRequest);
            }
        });
        app.MapDelete("/vhosts/{name}", async (string name, CancellationToken ct) =>
            await context.DestroyVhostAsync(name, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Results.Json(new { error = $"no vhost named '{name}'" }, statusCode: StatusCodes.Status404NotFound));
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
