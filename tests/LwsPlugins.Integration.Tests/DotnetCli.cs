using System.Diagnostics;
using System.Text;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Runs the <c>dotnet</c> CLI (directly, or in a documented shell command line) as a child process for the
/// plugin-authoring test: bounded, killed (with its children) on timeout, output captured. MSBuild node reuse and the
/// shared compiler server are off, so nothing outlives the command.
/// </summary>
internal static class DotnetCli
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(4);

    /// <summary>Runs <c>dotnet &lt;arguments&gt;</c> in <paramref name="workingDirectory"/>; fails the test on a non-zero exit or a timeout.</summary>
    public static Task<string> RunAsync(string workingDirectory, params string[] arguments)
        => RunProcessAsync("dotnet " + string.Join(' ', arguments), "dotnet", workingDirectory, new Dictionary<string, string?>(), arguments);

    /// <summary>
    /// Runs one shell command line, as a reader would type it, with <c>bash -euo pipefail -c</c> in
    /// <paramref name="workingDirectory"/>, with <paramref name="environment"/> laid over the test's (null removes a
    /// variable); fails the test on a non-zero exit or a timeout.
    /// </summary>
    public static Task<string> RunShellAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, string commandLine)
        => RunProcessAsync(commandLine, "bash", workingDirectory, environment, "-euo", "pipefail", "-c", commandLine);

    private static async Task<string> RunProcessAsync(string command, string file, string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test itself runs under `dotnet test`: keep its MSBuild and test-host settings out of the child.
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["UseSharedCompilation"] = "false";
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        var started = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Fail($"`{command}` did not finish within {DefaultTimeout} (killed):\n{Text(output)}");
        }

        process.WaitForExit(); // drains the redirected output
        TestContext.Progress.WriteLine($"[{started.Elapsed.TotalSeconds,5:F1} s] {command}");
        if (process.ExitCode != 0)
        {
            Assert.Fail($"`{command}` in {workingDirectory} exited with {process.ExitCode}:\n{Text(output)}");
        }

        return Text(output);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
