using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LwsPlugins.Tests.Common;

/// <summary>The real server executable (lws-server.dll beside the tests) run as a child process; killed on dispose.</summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<IPEndPoint> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public IPEndPoint EndPoint => _listening.Task.Result;

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

    public Process Process => _process;

    /// <summary>Starts the server with arguments and waits until it listens (its first "Listening on" log line).</summary>
    public static async Task<ServerProcess> StartAsync(params string[] arguments)
    {
        var server = Launch(arguments);
        var finished = await Task.WhenAny(server._listening.Task, server._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
        if (finished != server._listening.Task)
        {
            var output = server.Output;
            await server.DisposeAsync();
            throw new InvalidOperationException($"the server did not start listening:\n{output}");
        }

        return server;
    }

    /// <summary>Starts the server with arguments and waits until its output has a line containing <paramref name="ready"/> (e.g. a Unix socket's "Listening on unix:...").</summary>
    public static async Task<ServerProcess> StartUntilAsync(string ready, params string[] arguments)
    {
        var server = Launch(arguments);
        try
        {
            await server.WaitForOutputAsync(ready);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Runs the server to its exit (bounded), for arguments that make it stop at once.</summary>
    public static Task<(int ExitCode, string Output)> RunToExitAsync(params string[] arguments) => RunToExitAsync([], arguments);

    /// <summary>Runs the server through a launcher command (e.g. <c>setpriv --reuid=65534 --</c>) to its exit (bounded).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyList<string> launcher, params string[] arguments)
    {
        await using var server = Launch(arguments, launcher);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server._process.WaitForExitAsync(timeout.Token);
        return (server._process.ExitCode, server.Output);
    }

    private static ServerProcess Launch(string[] arguments, IReadOnlyList<string>? launcher = null)
    {
        launcher = launcher is { Count: > 0 } ? launcher : [];
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var part in launcher.Skip(1))
        {
            info.ArgumentList.Add(part);
        }

        if (launcher.Count > 0)
        {
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "lws-server.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        var match = ListeningPattern().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(IPEndPoint.Parse(match.Groups[1].Value));
        }
    }

    /// <summary>Sends a POSIX signal (e.g. "USR1", "HUP", "TERM") to the server.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with {kill.ExitCode}");
        }
    }

    /// <summary>Waits (bounded) until the output holds <paramref name="count"/> lines containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Occurrences(text) < count)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited while waiting for '{text}':\n{Output}");
            }

            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{text}' did not appear {count} time(s) within 30 s:\n{Output}");
            }
        }
    }

    private int Occurrences(string text)
        => Output.Split('\n').Count(line => line.Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Listening on ([0-9.]+:\d+|\[[0-9a-fA-F:.]+\]:\d+)")]
    private static partial Regex ListeningPattern();
}
