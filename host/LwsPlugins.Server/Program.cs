using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Privileges;
using LwsPlugins.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

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
});

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static void ConfigureLogging(ILoggingBuilder logging, LwsServerOptions options, System.CommandLine.ParseResult parse)
{
    logging.AddSimpleConsole(o => o.SingleLine = true);
    var minimum = LogLevel.Information;
    foreach (var (category, level) in options.LogLevels ?? [])
    {
        if (category == "Default")
        {
            minimum = level;
        }
        else
        {
            logging.AddFilter(category, level);
        }
    }

    if (parse.GetResult(ServerCommandLine.LogLevelOption) is { Implicit: false })
    {
        minimum = parse.GetValue(ServerCommandLine.LogLevelOption);
    }

    logging.SetMinimumLevel(minimum);
}
