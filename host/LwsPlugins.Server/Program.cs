using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Privileges;
using LwsPlugins.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

// Socket completions run on the runtime's event threads instead of being queued to the thread pool first: a
// connection then costs about 1 context switch per request instead of 4 (perf stat, bench/RESULTS.md "Thread hops per
// connection"). Kestrel's pipes still hand every request and session to the thread pool, so no handler of ours or of
// a plugin runs on an event thread unless it awaits a socket of its own. Read once, when the first socket is used, so
// it is set before anything else; an operator's own value (e.g. 0) wins.
const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
}

var root = ServerCommandLine.CreateRootCommand();
root.SetAction(async (parse, cancellationToken) =>
{
    ServerSettings settings;
    try
    {
        settings = ServerCommandLine.BuildSettings(parse);
    }
    catch (LwsConfigurationException ex)
    {
        await Console.Error.WriteLineAsync($"lws-server: {ex.Message}").ConfigureAwait(false);
        return 2;
    }

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
    ConfigureLogging(builder.Logging, settings.Options, parse);
    if (settings.Options.Otlp is { } otlp)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("LwsPlugins", "Microsoft.AspNetCore.Server.Kestrel")
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(otlp.Endpoint);
                exporter.Protocol = otlp.Protocol == "httpProtobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = otlp.ExportIntervalMs;
            }));
    }

    builder.Services.AddSingleton(settings);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddHostedService<LwsServerService>();
    using var host = builder.Build();
    try
    {
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
    catch (LwsConfigurationException ex)
    {
        await Console.Error.WriteLineAsync($"lws-server: {ex.Message}").ConfigureAwait(false);
        return 2;
    }
    catch (PrivilegeDropException ex)
    {
        await Console.Error.WriteLineAsync($"lws-server: {ex.Message}").ConfigureAwait(false);
        return 3;
    }
    catch (Exception ex) when (ex is not OperationCanceledException)
    {
        // Anything else that stops the start: one line naming the cause; the stack only when asked for (-d Debug).
        await Console.Error.WriteLineAsync($"lws-server: {ex.Message}").ConfigureAwait(false);
        if (MinimumLevel(settings.Options, parse) <= LogLevel.Debug)
        {
            await Console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
        }

        return 1;
    }
});

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    await Console.Error.WriteLineAsync($"lws-server: {ServerCommandLine.DescribeErrors(parsed)}").ConfigureAwait(false);
    return 2;
}

return await parsed.InvokeAsync().ConfigureAwait(false);

static void ConfigureLogging(ILoggingBuilder logging, LwsServerOptions options, System.CommandLine.ParseResult parse)
{
    if (parse.GetValue(ServerCommandLine.LogFormat) == "json")
    {
        logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
    }
    else
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
    }

    var minimum = MinimumLevel(options, parse);

    // Per-request chatter of ASP.NET Core (a line for every static file, three for every admin request, one for every
    // browser that leaves) and the host's "Hosting failed to start" with its stack (the cause is printed as one line
    // on stderr) show only when Debug is asked for. A category in the configuration's logLevels overrides these.
    if (minimum > LogLevel.Debug)
    {
        string[] debugOnly =
        [
            "Microsoft.AspNetCore.StaticFiles",
            "Microsoft.AspNetCore.Routing.EndpointMiddleware",
            "Microsoft.AspNetCore.Http.Result",
            "Microsoft.AspNetCore.Server.Kestrel.Connections",
            "Microsoft.Extensions.Hosting.Internal.Host",
        ];
        foreach (var category in debugOnly)
        {
            logging.AddFilter(category, category == "Microsoft.Extensions.Hosting.Internal.Host" ? LogLevel.Critical : LogLevel.Warning);
        }
    }

    foreach (var (category, level) in options.LogLevels ?? [])
    {
        if (category != "Default")
        {
            logging.AddFilter(category, level);
        }
    }

    logging.SetMinimumLevel(minimum);
}

static LogLevel MinimumLevel(LwsServerOptions options, System.CommandLine.ParseResult parse)
{
    if (parse.GetResult(ServerCommandLine.LogLevelOption) is { Implicit: false })
    {
        return parse.GetValue(ServerCommandLine.LogLevelOption);
    }

    return options.LogLevels is { } levels && levels.TryGetValue("Default", out var configured) ? configured : LogLevel.Information;
}
