using System.Diagnostics;
using System.Security;
using System.Text.RegularExpressions;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// The plugin author's path, end to end, with the commands of docs/plugin-authoring.md: pack the SDK and the template
/// into a local folder feed, install the template (in a private template hive), create a plugin outside the repository,
/// run its generated unit tests, build it against the packed SDK only straight into a running server's plugins folder,
/// and talk to it over WebSocket.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class PluginAuthoringTests
{
    private string _root = null!;

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "lws-authoring-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes what a process still held.
        }
    }

    [Test]
    public async Task PackedSdkAndTemplate_GiveAPluginThatPassesItsTests_BuildsIntoARunningServer_AndEchoes()
    {
        var total = Stopwatch.StartNew();
        var repo = FindRepositoryRoot();
        var feed = Directory.CreateDirectory(Path.Combine(_root, "feed")).FullName;
        var hive = Directory.CreateDirectory(Path.Combine(_root, "template-hive")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(_root, "work")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(_root, "plugins")).FullName;

        // 1. The SDK package and the template pack, into a local folder feed (guide: "Packages from this repository").
        await DotnetCli.RunAsync(repo, "pack", "plugin-sdk/LwsPlugins.Sdk", "-o", feed);
        await DotnetCli.RunAsync(repo, "pack", "templates/LwsPlugins.Templates", "-o", feed);
        var sdkPackage = Directory.GetFiles(feed, "LwsPlugins.Sdk.*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
        var templatePackage = Directory.GetFiles(feed, "LwsPlugins.Templates.*.nupkg").Single();
        Assert.That(Path.GetFileName(sdkPackage), Is.EqualTo("LwsPlugins.Sdk." + Path.GetFileName(templatePackage)["LwsPlugins.Templates.".Length..]));

        // 2. Install the template, in a private hive so the machine's template list is untouched.
        await DotnetCli.RunAsync(work, "new", "install", templatePackage, "--debug:custom-hive", hive);

        // 3. A NuGet.config in the work folder: the local feed (the only source of LwsPlugins.*), the machine's package
        //    cache as a folder feed (offline), and the sources configured on this machine; a private packages folder,
        //    so a stale LwsPlugins.Sdk in the machine's cache is never used.
        await File.WriteAllTextAsync(Path.Combine(work, "NuGet.config"), NuGetConfig(feed, await MachineSourcesAsync(work), Path.Combine(_root, "packages")));

        // 4. Create the plugin, run its unit tests.
        await DotnetCli.RunAsync(work, "new", "lws-plugin", "-n", "MyProto", "--protocol", "my-proto", "--debug:custom-hive", hive);
        Assert.That(File.Exists(Path.Combine(work, "MyProto", "MyProto", "my-proto.json")), Is.True, "the manifest is named after the plugin id");
        var testOutput = await DotnetCli.RunAsync(work, "test", "MyProto/MyProto.Tests");
        Assert.That(testOutput, Does.Match(@"Passed!\s+- Failed:\s+0, Passed:\s+[1-9]"));

        // 5. A running server whose vhost lists the new protocol, with an option of the vhost's.
        var config = Path.Combine(_root, "server.json");
        await File.WriteAllTextAsync(config, """
            { "vhosts": [ { "name": "authoring", "address": "127.0.0.1", "port": 0, "protocols": { "my-proto": { "prefix": "echo: " } } } ] }
            """);
        await using var server = await ServerProcess.StartAsync("-p", "0", "--plugins", plugins, "--config", config);
        await server.WaitForOutputAsync("Vhost authoring created on");
        var endPoint = VhostEndPoint().Match(server.Output).Groups[1].Value;

        // 6. The dev loop: build straight into the server's plugins folder; the watcher loads it.
        await DotnetCli.RunAsync(work, "build", "MyProto/MyProto", $"-p:LwsPluginsFolder={plugins}");
        Assert.That(Directory.GetFiles(Path.Combine(plugins, "my-proto")).Select(Path.GetFileName), Is.EquivalentTo(new[]
        {
            "MyProto.dll", "MyProto.pdb", "MyProto.deps.json", "MyProto.runtimeconfig.json", "my-proto.json",
        }), "only the plugin's own files: the SDK and the host-shared assemblies stay out");
        await server.WaitForOutputAsync("Plugin my-proto generation 1 loaded");

        // 7. Talk to it.
        var reply = await EchoAsync(new Uri($"ws://{endPoint}/"), "hello");
        Assert.That(reply, Is.EqualTo("echo: hello"));
        TestContext.Progress.WriteLine($"plugin authoring, end to end: {total.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<string> EchoAsync(Uri uri, string text)
    {
        // The plugin was just loaded: the vhost attaches it right after, so retry the upgrade briefly.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await using var client = await WsClient.ConnectAsync(uri, "my-proto");
                Assert.That(client.SubProtocol, Is.EqualTo("my-proto"));
                await client.SendTextAsync(text);
                return await client.ReceiveTextAsync();
            }
            catch (System.Net.WebSockets.WebSocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<IReadOnlyList<string>> MachineSourcesAsync(string workingDirectory)
    {
        var listed = await DotnetCli.RunAsync(workingDirectory, "nuget", "list", "source", "--format", "short");
        return [.. listed.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("E ", StringComparison.Ordinal)).Select(l => l[2..].Trim())];
    }

    private static string NuGetConfig(string feed, IReadOnlyList<string> machineSources, string packagesFolder)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var sources = machineSources.Select((url, i) => ($"machine-{i}", url)).Prepend(("machine-cache", cache)).ToList();
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{SecurityElement.Escape(packagesFolder)}" />
              </config>
              <packageSources>
                <clear />
                <add key="lws-feed" value="{SecurityElement.Escape(feed)}" />
            {string.Concat(sources.Select(s => $"    <add key=\"{s.Item1}\" value=\"{SecurityElement.Escape(s.Item2)}\" />\n"))}  </packageSources>
              <packageSourceMapping>
                <packageSource key="lws-feed"><package pattern="LwsPlugins.*" /></packageSource>
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

    [GeneratedRegex(@"Vhost authoring created on (\S+:\d+)")]
    private static partial Regex VhostEndPoint();
}
