using System.Net;
using System.Net.WebSockets;
using System.Security;
using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// The plugin author's path exactly as README.md shows it: the fenced <c>sh</c> block under the
/// <c>&lt;!-- author-path</c> marker is read from the file and run line by line, so the document cannot drift from what
/// works. The block packs the SDK and the template into the repository's local feed, starts a server with no
/// configuration, creates a plugin, runs its generated tests, builds it into the server's plugins folder, edits the
/// handler and builds again; this test checks the replies the block's comments promise after each build.
/// </summary>
/// <remarks>
/// The block runs as written, in a private HOME (and <c>DOTNET_CLI_HOME</c>): <c>~</c> is a temporary folder, the
/// template hive and NuGet's package folder are private, and NuGet's user config there restores <c>LwsPlugins.*</c>
/// only from the feed named by the template's NuGet.config (everything else from the machine's package cache and
/// sources, so no stale LwsPlugins.Sdk of the same version is ever used). Two lines are not handed to bash: the
/// server line (<c>dotnet run --project host/LwsPlugins.Server [--no-build] -- ARGS &amp;</c>) starts the
/// <c>lws-server.dll</c> built beside these tests with the same arguments, expanded by bash (so its log can be read and
/// its process checked); <c>kill %1</c> stops it. The private package folder is also where the block's repository
/// builds (the pack, the server) restore to, so the test restores the repository with the machine's settings at the
/// end: the price of never sharing an LwsPlugins.Sdk of the same version with another run of this test on the machine.
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed partial class PluginAuthoringTests
{
    /// <summary>The key of the feed in the NuGet.config that plugin-sdk/pack-local-feed.sh puts into the template.</summary>
    private const string TemplateFeedKey = "lws-local-feed";

    private string _home = null!;

    [SetUp]
    public void CreateHome()
    {
        _home = Path.Combine(Path.GetTempPath(), "lws-authoring-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_home);
    }

    [TearDown]
    public void DeleteHome()
    {
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes what a process still held.
        }
    }

    [Test]
    public async Task GuideSectionOne_ShowsTheReadmeAuthorBlock()
    {
        var repo = FindRepositoryRoot();
        var readme = AuthorBlock(await File.ReadAllTextAsync(Path.Combine(repo, "README.md")), "README.md");
        var guide = AuthorBlock(await File.ReadAllTextAsync(Path.Combine(repo, "docs", "plugin-authoring.md")), "docs/plugin-authoring.md");
        Assert.That(guide, Is.EqualTo(readme), "docs/plugin-authoring.md's author-path block must be README.md's, which the other test runs");
    }

    [Test]
    public async Task ReadmeAuthorBlock_RunAsWritten_ServesTheNewPluginOnTheDefaultVhost_AndAnEditGoesLiveWithoutARestart()
    {
        var repo = FindRepositoryRoot();
        var lines = CommandLines(AuthorBlock(await File.ReadAllTextAsync(Path.Combine(repo, "README.md")), "README.md"));
        var environment = await PrivateHomeAsync(repo);

        ServerProcess? server = null;
        string? pluginsFolder = null;
        var builds = 0;
        var stopped = false;
        try
        {
            foreach (var line in lines)
            {
                if (ServerLine().Match(line) is { Success: true } serverLine)
                {
                    Assert.That(server, Is.Null, "the block starts one server");
                    var arguments = await ExpandAsync(repo, environment, serverLine.Groups["args"].Value);
                    Assert.That(arguments, Does.Not.Contain("--config").And.Not.Contain("-c"), "the author's path runs a server with no configuration");
                    Assert.That(arguments, Does.Contain("--plugins"), "the server line names the plugins folder the builds go to");
                    pluginsFolder = arguments[arguments.IndexOf("--plugins") + 1];
                    server = await ServerProcess.StartAsync([.. arguments]);
                    continue;
                }

                if (line == "kill %1")
                {
                    Assert.That(server, Is.Not.Null, "kill %1 stops the server the block started");
                    Assert.That(server!.Process.HasExited, Is.False, "the server ran through the whole loop");
                    await server.DisposeAsync();
                    server = null;
                    stopped = true;
                    continue;
                }

                var output = await DotnetCli.RunShellAsync(repo, environment, line);
                if (line.StartsWith("dotnet test ", StringComparison.Ordinal))
                {
                    Assert.That(output, Does.Match(@"Passed!\s+- Failed:\s+0, Passed:\s+[1-9]"), "the generated tests ran and passed");
                }

                if (BuildIntoPluginsLine().IsMatch(line))
                {
                    Assert.That(server, Is.Not.Null, "the server runs before the plugin is built into its folder");
                    builds++;
                    await VerifyBuildAsync(server!, pluginsFolder!, builds);
                }
            }
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            // The block's repository builds (the pack, the server) restored into the private package folder, which
            // TearDown deletes: restore the repository with the machine's settings again, or a later
            // `dotnet build --no-restore` here (HotReloadTests does one) would look for packages in a deleted folder.
            await DotnetCli.RunAsync(repo, "restore", "LwsPlugins.sln");
        }

        Assert.That(builds, Is.EqualTo(2), "the block builds the plugin, edits it and builds it again");
        Assert.That(stopped, Is.True, "the block stops its server");
    }

    /// <summary>What the block's comments promise after each build into the plugins folder, on the same process.</summary>
    private static async Task VerifyBuildAsync(ServerProcess server, string pluginsFolder, int build)
    {
        Assert.That(server.Process.HasExited, Is.False, "no restart: the server that started first serves every build");
        if (build == 1)
        {
            Assert.That(Directory.GetFiles(Path.Combine(pluginsFolder, "my-proto")).Select(Path.GetFileName), Is.EquivalentTo(new[]
            {
                "MyProto.dll", "MyProto.pdb", "MyProto.deps.json", "MyProto.runtimeconfig.json", "my-proto.json",
            }), "only the plugin's own files: the SDK and the host-shared assemblies stay out");
        }

        await server.WaitForOutputAsync($"Plugin my-proto generation {build} loaded");

        // build 1: the template's echo (default prefix ""); build 2: the block's edit upper-cases the echo.
        var expected = build == 1 ? "hello" : "HELLO";
        string? last = null;
        try
        {
            await Eventually.WaitUntilAsync(async () => (last = await TryEchoAsync(server.EndPoint, "hello")) == expected, TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"after build {build}, my-proto on the default vhost ({server.EndPoint}) did not answer \"{expected}\" (last: {last ?? "no 101"}):\n{server.Output}");
        }
    }

    /// <summary>One fresh session with subprotocol my-proto: its echo of <paramref name="text"/>, or null without a 101.</summary>
    private static async Task<string?> TryEchoAsync(IPEndPoint endPoint, string text)
    {
        try
        {
            await using var client = await WsClient.ConnectAsync(new Uri($"ws://{endPoint}/"), "my-proto");
            if (client.SubProtocol != "my-proto")
            {
                return null;
            }

            await client.SendTextAsync(text);
            return await client.ReceiveTextAsync();
        }
        catch (WebSocketException)
        {
            return null; // not offered yet (the plugin is still loading): the handshake is refused
        }
    }

    /// <summary>The first fenced <c>sh</c> block after the line that starts with <c>&lt;!-- author-path</c>.</summary>
    private static string AuthorBlock(string markdown, string file)
    {
        var match = AuthorBlockPattern().Match(markdown);
        Assert.That(match.Success, Is.True, $"{file} has no ```sh block right under an <!-- author-path --> marker");
        return match.Groups["block"].Value;
    }

    /// <summary>The block's command lines: comment-only and empty lines dropped, <c>\</c> continuations joined.</summary>
    private static List<string> CommandLines(string block)
    {
        var lines = new List<string>();
        var pending = "";
        foreach (var raw in block.Split('\n'))
        {
            var line = pending + raw.TrimEnd();
            if (line.EndsWith('\\'))
            {
                pending = line[..^1];
                continue;
            }

            pending = "";
            var command = WithoutComment(line).Trim();
            if (command.Length > 0)
            {
                lines.Add(command);
            }
        }

        return lines;
    }

    /// <summary>The line up to a <c>#</c> that starts a word outside quotes, where the shell's comment starts.</summary>
    private static string WithoutComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i];
            }
        }

        return line;
    }

    /// <summary>The server line's arguments as bash would pass them (tilde and variables expanded in the private HOME).</summary>
    private static async Task<List<string>> ExpandAsync(string repo, IReadOnlyDictionary<string, string?> environment, string arguments)
    {
        var output = await DotnetCli.RunShellAsync(repo, environment, "printf '%s\\n' " + arguments);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>
    /// The private HOME the block runs in: its NuGet user config takes packages from the machine's cache and sources,
    /// except <c>LwsPlugins.*</c>, which may come only from the template's feed (a plugin without that NuGet.config fails
    /// to restore, as a reader's would).
    /// </summary>
    private async Task<Dictionary<string, string?>> PrivateHomeAsync(string repo)
    {
        var machineSources = await MachineSourcesAsync(repo);
        var nugetConfig = Directory.CreateDirectory(Path.Combine(_home, ".nuget", "NuGet")).FullName;
        await File.WriteAllTextAsync(Path.Combine(nugetConfig, "NuGet.Config"), NuGetUserConfig(machineSources));
        return new Dictionary<string, string?>
        {
            ["HOME"] = _home,
            ["DOTNET_CLI_HOME"] = _home,
            ["NUGET_PACKAGES"] = null,
        };
    }

    private static async Task<IReadOnlyList<string>> MachineSourcesAsync(string workingDirectory)
    {
        var listed = await DotnetCli.RunAsync(workingDirectory, "nuget", "list", "source", "--format", "short");
        return [.. listed.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("E ", StringComparison.Ordinal)).Select(l => l[2..].Trim())];
    }

    private static string NuGetUserConfig(IReadOnlyList<string> machineSources)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var sources = machineSources.Select((url, i) => ($"machine-{i}", url)).Prepend(("machine-cache", cache)).ToList();
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
            {string.Concat(sources.Select(s => $"    <add key=\"{s.Item1}\" value=\"{SecurityElement.Escape(s.Item2)}\" />\n"))}  </packageSources>
              <packageSourceMapping>
                <packageSource key="{TemplateFeedKey}"><package pattern="LwsPlugins.*" /></packageSource>
            {string.Concat(sources.Select(s => $"    <packageSource key=\"{s.Item1}\"><package pattern=\"*\" /></packageSource>\n"))}  </packageSourceMapping>
            </configuration>
            """;
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "LwsPlugins.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no LwsPlugins.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^<!-- author-path[^\n]*\n```sh\n(?<block>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex AuthorBlockPattern();

    [GeneratedRegex(@"^dotnet run --project host/LwsPlugins\.Server (--no-build )?-- (?<args>[^&]*?)\s*&$")]
    private static partial Regex ServerLine();

    [GeneratedRegex(@"^dotnet build .*-p:LwsPluginsFolder=")]
    private static partial Regex BuildIntoPluginsLine();
}
