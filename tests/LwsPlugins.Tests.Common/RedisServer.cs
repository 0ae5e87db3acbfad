using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>
/// A real <c>redis-server</c> (Debian's, installed by test.sh) on 127.0.0.1 and a free port, with no persistence; stopped
/// and restarted on the same port by tests of a lost backplane, killed on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(int port)
    {
        Port = port;
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public bool IsRunning => _process is { HasExited: false };

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts one on a port the system just handed out (bound to port 0 and released), trying another on a collision.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var errors = new StringBuilder();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var server = new RedisServer(FreePort());
            if (await server.TryLaunchAsync())
            {
                return server;
            }

            errors.AppendLine(server.Output);
        }

        throw new InvalidOperationException($"redis-server did not start on a free port in 5 attempts:\n{errors}");
    }

    /// <summary>Stops it (SIGKILL: the connection drops as in a crash) and waits for the process to end.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
            process.Dispose();
        }
    }

    /// <summary>Starts it again on the same port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await TryLaunchAsync())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"redis-server did not restart on port {Port}:\n{Output}");
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string Executable()
        => CommandPath.Find("redis-server") ?? (File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
            : throw new InvalidOperationException("redis-server is not installed (test.sh installs Debian's redis-server)."));

    private async Task<bool> TryLaunchAsync()
    {
        var info = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var finished = await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(10)));
        if (finished == ready.Task)
        {
            _process = process;
            return true;
        }

        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process.Dispose();
        return false;
    }
}
