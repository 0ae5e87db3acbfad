using System.Net;
using System.Text.Json;
using LwsPlugins.Tests.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class ServerProcessTests
{
    [Test]
    public async Task DefaultVhost_ServesTheDemoPageAndEveryBundledProtocol()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0");
        var baseUri = $"{server.EndPoint}";
        using var http = new HttpClient { Timeout = WsClient.DefaultTimeout };

        var page = await http.GetStringAsync(new Uri($"http://{baseUri}/"));
        Assert.That(page, Does.Contain("LwsPlugins demo"));
        Assert.That((await http.GetAsync(new Uri($"http://{baseUri}/demo.js"))).Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));

        await using var counter = await WsClient.ConnectAsync(new Uri($"ws://{baseUri}/"), "dumb-increment-protocol");
        Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));

        await using var mirror = await WsClient.ConnectAsync(new Uri($"ws://{baseUri}/?mirror=process"), "lws-mirror-protocol");
        await mirror.SendTextAsync("c #123456 10 20 5;");
        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("c #123456 10 20 5;"));

        await using var status = await WsClient.ConnectAsync(new Uri($"ws://{baseUri}/"), "lws-status");
        using var document = JsonDocument.Parse(await status.ReceiveTextAsync());
        Assert.That(document.RootElement.GetProperty("conns").GetArrayLength(), Is.EqualTo(1));

        await using var serverStatus = await WsClient.ConnectAsync(new Uri($"ws://{baseUri}/"), "lws-server-status");
        using var rich = JsonDocument.Parse(await serverStatus.ReceiveTextAsync());
        Assert.That(rich.RootElement.GetProperty("vhosts")[0].GetProperty("protocols").GetArrayLength(), Is.EqualTo(4));
    }

    [Test]
    public async Task ResourcePath_ReplacesTheDemoPage_WithTestHtmlAsDefaultDocument()
    {
        var folder = Path.Combine(Path.GetTempPath(), "lws-resource-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "test.html"), "<title>lws test page</title>");
            await using var server = await ServerProcess.StartAsync("-p", "0", "-r", folder);
            using var http = new HttpClient { Timeout = WsClient.DefaultTimeout };

            var page = await http.GetStringAsync(new Uri($"http://{server.EndPoint}/"));

            Assert.That(page, Is.EqualTo("<title>lws test page</title>"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task PortInUse_FailsWithOneLineNamingTheCause_AndNoStackTrace()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, output) = await ServerProcess.RunToExitAsync("-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(exitCode, Is.EqualTo(2), output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Count(l => l.StartsWith("lws-server: ", StringComparison.Ordinal)), Is.EqualTo(1), output);
        Assert.That(lines.Single(l => l.StartsWith("lws-server: ", StringComparison.Ordinal)), Does.Contain($"127.0.0.1:{port}").And.Contain("address already in use"));
        Assert.That(output, Does.Not.Contain("Hosting failed to start").And.Not.Contain("   at ").And.Not.Contain("Exception"));
    }

    [Test]
    public async Task ConsoleLines_StartWithUtcIsoTime_AndStaticFilesAndAdminRequestsAreQuietAtInformation()
    {
        var folder = Path.Combine(Path.GetTempPath(), "lws-quiet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "server.json");
        await File.WriteAllTextAsync(config, """
            {
              "admin": { "enabled": true, "port": 0, "token": "quiet-token-0123456789" },
              "vhosts": [ { "name": "main", "port": 0, "mounts": [ { "mountPoint": "/", "origin": "file:///" } ] } ]
            }
            """.Replace("file:///", "file://" + AppContext.BaseDirectory.TrimEnd('/'), StringComparison.Ordinal));
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            await server.WaitForOutputAsync("Admin API listening on");
            var admin = System.Text.RegularExpressions.Regex.Match(server.Output, @"Admin API listening on (\S+)").Groups[1].Value;
            using var http = new HttpClient { Timeout = WsClient.DefaultTimeout };
            Assert.That((await http.GetAsync(new Uri($"http://{server.EndPoint}/lws-server.runtimeconfig.json"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{admin}/vhosts"));
            request.Headers.TryAddWithoutValidation("Authorization", "bearer quiet-token-0123456789");
            Assert.That((await http.SendAsync(request)).StatusCode, Is.EqualTo(HttpStatusCode.OK));

            // The admin answer and the file are sent; a line about them, had there been one, was written before.
            var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.All.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit): "));
            Assert.That(server.Output, Does.Not.Contain("Sending file").And.Not.Contain("Executing endpoint").And.Not.Contain("JsonResult").And.Not.Contain("Writing value"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task LogFormatJson_WritesOneJsonObjectPerLine_WithUtcTime()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0", "--log-format", "json");

        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.Not.Empty);
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            Assert.That(entry.RootElement.GetProperty("Timestamp").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
            Assert.That(entry.RootElement.GetProperty("Category").GetString(), Is.Not.Empty);
        }

        Assert.That(lines.Any(l => l.Contains("\"Listening on ", StringComparison.Ordinal) || l.Contains("Listening on", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task ReadmeCurlCommands_ForMetricsAndStatus_RunAsWritten()
    {
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repo.FullName, "LwsPlugins.sln")))
        {
            repo = repo.Parent ?? throw new InvalidOperationException("no LwsPlugins.sln above the tests");
        }

        var readme = await File.ReadAllTextAsync(Path.Combine(repo.FullName, "README.md"));
        var block = System.Text.RegularExpressions.Regex.Match(readme, "```sh\n(T=at-least-16-characters[^\n]*\n(?:curl [^\n]*\n)+)```").Groups[1].Value;
        Assert.That(block, Does.Contain("/metrics").And.Contain("/status"), "the README's curl block");
        var folder = Path.Combine(Path.GetTempPath(), "lws-readme-curl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "server.json");
        await File.WriteAllTextAsync(config, """{ "admin": { "enabled": true, "port": 0, "token": "at-least-16-characters" }, "vhosts": [ { "name": "main", "port": 0 } ] }""");
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            await server.WaitForOutputAsync("Admin API listening on");
            var admin = System.Text.RegularExpressions.Regex.Match(server.Output, @"Admin API listening on (\S+)").Groups[1].Value;

            // The documented port is the example configuration's 7680; the test's server took a free one.
            var (exitCode, output) = await Command.RunAsync("bash", "-ec", block.Replace("127.0.0.1:7680", admin, StringComparison.Ordinal));

            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Contain("# TYPE lws_vhosts_created_total counter").And.Contain("\"uptimeSeconds\":"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task InvalidConfigFile_ExitsWith2AndNamesTheFileAndKey()
    {
        var config = Path.Combine(Path.GetTempPath(), "lws-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, """
            # lws-style comment
            { "vhosts": [ { "name": "broken", "port": 70000, "protocols": { "dumb-increment-protocol": {} } } ] }
            """);
        try
        {
            var (exitCode, output) = await ServerProcess.RunToExitAsync("--config", config);

            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(output, Does.Contain(config).And.Contain("vhost 'broken'").And.Contain("port"));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Test]
    public async Task ConfigFile_WithTwoVhosts_ServesBoth()
    {
        var config = Path.Combine(Path.GetTempPath(), "lws-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, """
            {
              "vhosts": [
                { "name": "counter", "address": "127.0.0.1", "port": 0, "protocols": { "dumb-increment-protocol": { "intervalMs": 10 } } },
                { "name": "mirror", "address": "127.0.0.1", "port": 0, "protocols": [ "lws-mirror-protocol" ] }
              ]
            }
            """);
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            await server.WaitForOutputAsync("Configuration reloaded");
            var endPoints = System.Text.RegularExpressions.Regex.Matches(server.Output, @"Vhost (\w+) created on (\S+)")
                .ToDictionary(m => m.Groups[1].Value, m => IPEndPoint.Parse(m.Groups[2].Value));

            await using var counter = await WsClient.ConnectAsync(new Uri($"ws://{endPoints["counter"]}/"), "dumb-increment-protocol");
            Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
            await using var mirror = await WsClient.ConnectAsync(new Uri($"ws://{endPoints["mirror"]}/"), "lws-mirror-protocol");
            await mirror.SendTextAsync("hi");
            Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("hi"));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Test]
    public async Task ConfigFile_ServerWideSettings_ApplyFromTheStart()
    {
        var folder = Path.Combine(Path.GetTempPath(), "lws-serverwide-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "shared"));
        await File.WriteAllTextAsync(Path.Combine(folder, "shared", "note.txt"), "from the configured provider");
        var config = Path.Combine(folder, "server.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "handshakeTimeoutMs": 1000,
              "fileProviders": [ { "prefix": "/shared", "folder": {{JsonSerializer.Serialize(Path.Combine(folder, "shared"))}} } ],
              "vhosts": [ { "name": "main", "port": 0, "protocols": [], "mounts": [ { "mountPoint": "/", "origin": "file:///shared" } ] } ]
            }
            """);
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            await server.WaitForOutputAsync("Configuration reloaded");
            var endPoint = IPEndPoint.Parse(System.Text.RegularExpressions.Regex.Match(server.Output, @"Vhost main created on (\S+)").Groups[1].Value);

            using var http = new HttpClient();
            Assert.That(await http.GetStringAsync($"http://{endPoint}/note.txt"), Is.EqualTo("from the configured provider"));

            // A client that never sends its request line is dropped after the file's 1 s, not the 10 s default.
            using var silent = new System.Net.Sockets.TcpClient();
            await silent.ConnectAsync(endPoint);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var buffer = new byte[1];
            int read;
            try
            {
                read = await silent.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(6));
            }
            catch (IOException)
            {
                read = 0;
            }

            Assert.That(read, Is.Zero, "the server closed the silent connection");
            Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(6)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task SigUsr1_TogglesASecondVhostOnPortPlusOne()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0");
        var second = server.EndPoint.Port + 1;

        await server.SignalAsync("USR1");
        await server.WaitForOutputAsync($"SIGUSR1: created vhost localhost-{second}");
        await using var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{second}/"), "dumb-increment-protocol");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("0"));

        await server.SignalAsync("USR1");
        await server.WaitForOutputAsync($"SIGUSR1: destroyed vhost localhost-{second}");
        Assert.That((await client.ReceiveCloseAsync()).CloseStatus, Is.EqualTo(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable));

        await using var first = await WsClient.ConnectAsync(new Uri($"ws://{server.EndPoint}/"), "dumb-increment-protocol");
        Assert.That(await first.ReceiveTextAsync(), Is.EqualTo("0"), "the first vhost serves on");
    }

    [Test]
    public async Task SigHup_ReloadsTheConfigurationFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "lws-sighup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "conf.d"));
        var config = Path.Combine(folder, "server.json");
        await File.WriteAllTextAsync(config, """{ "confD": "conf.d", "vhosts": [ { "name": "main", "port": 0, "protocols": [ "dumb-increment-protocol" ] } ] }""");
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            await server.WaitForOutputAsync("Configuration reloaded");

            await server.SignalAsync("HUP");

            await server.WaitForOutputAsync("SIGHUP: reloading the configuration");
            await server.WaitForOutputAsync("Configuration reloaded", count: 2);
            Assert.That(server.Process.HasExited, Is.False, "SIGHUP must not end the process");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Otlp_WhenConfigured_ExportsTheMeters_AndLogLevelsComeFromTheConfig()
    {
        var received = new TaskCompletionSource<(string Path, string? ContentType)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var collector = collectorBuilder.Build();
        collector.Run(async http =>
        {
            received.TrySetResult((http.Request.Path, http.Request.ContentType));
            http.Response.StatusCode = 200;
            await http.Response.CompleteAsync();
        });
        await collector.StartAsync();
        var collectorUri = collector.Urls.First();

        var config = Path.Combine(Path.GetTempPath(), "lws-otlp-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "logLevels": { "Default": "Information", "LwsPlugins.Host.Plugins": "Warning" },
              "otlp": { "endpoint": "{{collectorUri}}/v1/metrics", "protocol": "httpProtobuf", "exportIntervalMs": 300 },
              "vhosts": [ { "name": "otlp", "port": 0, "protocols": [ "dumb-increment-protocol" ] } ]
            }
            """);
        try
        {
            await using var server = await ServerProcess.StartAsync("--config", config);
            var export = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.That(export.Path, Is.EqualTo("/v1/metrics"));
            Assert.That(export.ContentType, Is.EqualTo("application/x-protobuf"));
            await server.WaitForOutputAsync("Vhost otlp created");
            Assert.That(server.Output, Does.Not.Contain("Plugin dumb-increment generation 1 loaded"), "LwsPlugins.Host.Plugins is at Warning");
        }
        finally
        {
            File.Delete(config);
            await collector.StopAsync();
        }
    }

    [Test]
    public async Task SigTerm_ClosesEverySessionWith1001_AndExitsWithZero()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0");
        var clients = new List<WsClient>();
        try
        {
            foreach (var protocol in new[] { "dumb-increment-protocol", "lws-mirror-protocol", "lws-status", "lws-server-status" })
            {
                var client = await WsClient.ConnectAsync(new Uri($"ws://{server.EndPoint}/"), protocol);
                clients.Add(client);
                if (protocol != "lws-mirror-protocol")
                {
                    await client.ReceiveTextAsync();
                }
            }

            await server.SignalAsync("TERM");

            foreach (var client in clients)
            {
                var close = await client.ReceiveCloseAsync(TimeSpan.FromSeconds(15));
                Assert.That(close.CloseStatus, Is.EqualTo(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable), client.SubProtocol);
            }

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await server.Process.WaitForExitAsync(exit.Token);
            Assert.That(server.Process.ExitCode, Is.Zero, server.Output);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
