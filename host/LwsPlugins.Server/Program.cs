using LwsPlugins.Host.Configuration;
using LwsPlugins.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
    builder.Logging.SetMinimumLevel(parse.GetValue(ServerCommandLine.LogLevelOption));
    builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
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
});

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
