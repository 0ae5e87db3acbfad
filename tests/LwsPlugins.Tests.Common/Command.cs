using System.Diagnostics;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>Runs a system command (ip, setpriv, bash) for tests: bounded, killed on timeout, output captured.</summary>
public static class Command
{
    /// <summary>True when the tests run as root (uid 0), read from /proc/self/status.</summary>
    public static bool IsRoot
        => File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0";

    /// <summary>Runs the command and returns its exit code and combined output (bounded: 30 s).</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
        => RunAsync(TimeSpan.FromSeconds(30), file, arguments);

    /// <summary>Runs the command, bounded by <paramref name="within"/>, and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan within, string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {within.TotalSeconds:F0} s");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>Runs the command and fails unless it exits with 0 (bounded: 30 s).</summary>
    public static Task<string> RunCheckedAsync(string file, params string[] arguments)
        => RunCheckedAsync(TimeSpan.FromSeconds(30), file, arguments);

    /// <summary>Runs the command, bounded by <paramref name="within"/>, and fails unless it exits with 0.</summary>
    public static async Task<string> RunCheckedAsync(TimeSpan within, string file, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync(within, file, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {exitCode}: {output}");
        }

        return output;
    }
}
