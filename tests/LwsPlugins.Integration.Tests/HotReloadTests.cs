using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>Hot reload: a plugin replaced on disk loads as a new generation beside the old one, which drains and unloads.</summary>
[TestFixture]
public sealed class HotReloadTests
{
    private const string Protocol = "versioned-protocol";
    private static readonly string s_v1 = Path.Combine(LoopbackServer.TestPluginsPath, "v1", "versioned");
    private static readonly string s_v2 = Path.Combine(LoopbackServer.TestPluginsPath, "v2", "versioned");
    private PluginFolder _plugins = null!;

    private string VersionedFolder => Path.Combine(_plugins.Path, "versioned");

    [SetUp]
    public void ComposePlugins()
    {
        _plugins = new PluginFolder();
        PluginFolder.CopyTree(s_v1, VersionedFolder);
    }

    [TearDown]
    public void RemovePlugins() => _plugins.Dispose();

    [Test]
    public async Task ReplaceByCopy_GivesOneReloadAndTheNewReply_WhileOldSessionsDrainOnOldCode()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, watch: true);
        await using var old = await ConnectAsync(server);
        Assert.That(await EchoAsync(old, "a"), Is.EqualTo("v1:a"));

        await AfterWatcherSawAsync(server, time, () => PluginFolder.CopyTree(s_v2, VersionedFolder));

        await using var fresh = await ConnectAsync(server);
        Assert.That(await EchoAsync(fresh, "b"), Is.EqualTo("v2:b"));
        Assert.That(await EchoAsync(old, "c"), Is.EqualTo("v1:c"), "drain: the old session stays on the old code");
        AssertGenerations(server, expected: 2);
    }

    [Test]
    public async Task ReplaceByRenameOver_GivesOneReloadAndTheNewReply()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, watch: true);

        await AfterWatcherSawAsync(server, time, () =>
        {
            foreach (var file in Directory.GetFiles(s_v2))
            {
                var temporary = Path.Combine(VersionedFolder, "." + Path.GetFileName(file) + ".new");
                File.Copy(file, temporary);
                File.Move(temporary, Path.Combine(VersionedFolder, Path.GetFileName(file)), overwrite: true);
            }
        });

        await using var fresh = await ConnectAsync(server);
        Assert.That(await EchoAsync(fresh, "b"), Is.EqualTo("v2:b"));
        AssertGenerations(server, expected: 2);
    }

    [Test]
    public async Task DotnetBuildIntoThePluginsFolder_GivesOneReloadAndTheNewReply()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, watch: true);
        var project = Path.Combine(RepoRoot(), "tests", "TestPlugins", "VersionedV2", "VersionedV2.csproj");

        await AfterWatcherSawAsync(server, time, () =>
        {
            var (exitCode, output) = RunDotnet("build", project, "--no-restore", "-v:q", "-nologo", $"-p:LwsPluginsFolder={_plugins.Path}");
            Assert.That(exitCode, Is.Zero, output);
        });

        await using var fresh = await ConnectAsync(server);
        Assert.That(await EchoAsync(fresh, "b"), Is.EqualTo("v2:b"));
        AssertGenerations(server, expected: 2);
    }

    [Test]
    public async Task CorruptAssembly_IsLogged_AndTheOldVersionKeepsServing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, watch: true);

        await AfterWatcherSawAsync(server, time, () =>
            File.WriteAllBytes(Path.Combine(VersionedFolder, "LwsPlugins.TestPlugins.Versioned.dll"), [0x4d, 0x5a, 1, 2, 3, 4, 5]),
            expectActive: 1);

        var failed = server.Context.Catalog.Plugins.Single(p => p.Id == "versioned").Latest!;
        Assert.That(failed.State, Is.EqualTo(PluginGenerationState.Failed));
        Assert.That(failed.Error, Does.Contain("LwsPlugins.TestPlugins.Versioned.dll").And.Contain("could not be loaded"));
        Assert.That(server.Logs.Entries.Any(e => e.EventId.Id == 101 && e.Message.Contains("could not be loaded", StringComparison.Ordinal)), Is.True);
        await using var fresh = await ConnectAsync(server);
        Assert.That(await EchoAsync(fresh, "still"), Is.EqualTo("v1:still"));
    }

    [Test]
    public async Task RestartPolicy_ClosesOldSessionsWith1012()
    {
        await using var server = await StartAsync(TimeProvider.System, watch: false, policy: PluginReloadPolicy.Restart);
        await using var old = await ConnectAsync(server);
        Assert.That(await EchoAsync(old, "a"), Is.EqualTo("v1:a"));

        PluginFolder.CopyTree(s_v2, VersionedFolder);
        await server.Context.ReloadPluginAsync(VersionedFolder);

        var close = await old.ReceiveCloseAsync();
        Assert.That((int?)close.CloseStatus, Is.EqualTo(1012));
        await using var fresh = await ConnectAsync(server);
        Assert.That(await EchoAsync(fresh, "b"), Is.EqualTo("v2:b"));
    }

    [Test]
    public async Task PluginAddedLater_IsAttachedToTheVhostsThatListIt_AndRemovedIsRetired()
    {
        Directory.Delete(VersionedFolder, recursive: true);
        await using var server = await StartAsync(TimeProvider.System, watch: false);
        Assert.That(await HandshakeStatusAsync(server), Is.EqualTo(HttpStatusCode.ServiceUnavailable));

        PluginFolder.CopyTree(s_v1, VersionedFolder);
        await server.Context.ReloadPluginAsync(VersionedFolder);
        await using var client = await ConnectAsync(server);
        Assert.That(await EchoAsync(client, "here"), Is.EqualTo("v1:here"));

        Directory.Delete(VersionedFolder, recursive: true);
        await server.Context.ReloadPluginAsync(VersionedFolder);
        Assert.That(await HandshakeStatusAsync(server), Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await EchoAsync(client, "draining"), Is.EqualTo("v1:draining"), "the removed plugin's session drains on its code");
    }

    [Test]
    public async Task HundredReloadsUnderLoad_LoseNothing_AndEveryRetiredGenerationUnloads()
    {
        await using var server = await StartAsync(TimeProvider.System, watch: false);
        await WarmUpAsync(server);
        var assembliesBefore = AppDomain.CurrentDomain.GetAssemblies().Length;
        var memoryBefore = CollectAndMeasure();

        using var stop = new CancellationTokenSource();
        var completed = new StrongBox<int>();
        var load = Enumerable.Range(0, 4).Select(worker => RunLoadAsync(server, worker, completed, stop.Token)).ToList();
        var contexts = new List<WeakReference>();
        for (var i = 0; i < 100; i++)
        {
            // Each reload lands while sessions come and go: wait for the load to move on between two reloads.
            var before = Volatile.Read(ref completed.Value);
            await WaitLongAsync(() => Volatile.Read(ref completed.Value) > before || load.Any(t => t.IsCompleted));
            PluginFolder.CopyTree(i % 2 == 0 ? s_v2 : s_v1, VersionedFolder);
            var change = await server.Context.ReloadPluginAsync(VersionedFolder);
            Assert.That(change?.Next?.State, Is.EqualTo(PluginGenerationState.Active), change?.Next?.Error);
            contexts.Add(change!.Previous!.LoadContext!);
        }

        await stop.CancelAsync();
        var results = await Task.WhenAll(load);
        var exchanges = results.Sum(r => r.Exchanges);
        var failures = results.SelectMany(r => r.Failures).ToList();
        TestContext.Out.WriteLine($"{exchanges} handshakes + echoes across 100 reloads, {failures.Count} failures");
        Assert.That(failures, Is.Empty);
        Assert.That(exchanges, Is.GreaterThanOrEqualTo(100));

        await WaitLongAsync(() => server.Context.Catalog.Plugins.Single(p => p.Id == "versioned").Generations.All(g => g.State != PluginGenerationState.Draining));
        var alive = CountAlive(contexts);
        Assert.That(alive, Is.Zero, $"{alive} of {contexts.Count} retired load contexts are still alive");
        var assembliesAfter = AppDomain.CurrentDomain.GetAssemblies().Length;
        var memoryAfter = CollectAndMeasure();
        TestContext.Out.WriteLine($"assemblies {assembliesBefore} -> {assembliesAfter}, managed memory {memoryBefore / 1024} KiB -> {memoryAfter / 1024} KiB");
        Assert.That(assembliesAfter, Is.LessThanOrEqualTo(assembliesBefore + 2));
        Assert.That(memoryAfter, Is.LessThan(memoryBefore + (16 << 20)));
    }

    [Test]
    public async Task MirrorWithStateHandOver_KeepsItsMembersDrawingAcrossAReload()
    {
        var folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "mirror");
        try
        {
            var vhost = LoopbackServer.Vhost("mirror", "lws-mirror-protocol");
            await using var server = await LoopbackServer.StartAsync(
                new LwsServerOptions { PluginsPath = folder.Path, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);
            await using var alice = await WsClient.ConnectAsync(server.WebSocketUri("mirror", "/?mirror=team"), "lws-mirror-protocol");
            await using var bob = await WsClient.ConnectAsync(server.WebSocketUri("mirror", "/?mirror=team"), "lws-mirror-protocol");
            // A session reads only after it has joined, so its own echo proves it is in the instance (bob may or may not
            // have joined in time for alice's first message).
            await alice.SendTextAsync("c #ff0000 1 1 1;");
            Assert.That(await alice.ReceiveTextAsync(), Is.EqualTo("c #ff0000 1 1 1;"));
            await bob.SendTextAsync("c #00ff00 2 2 2;");
            while (await bob.ReceiveTextAsync() != "c #00ff00 2 2 2;")
            {
            }

            Assert.That(await alice.ReceiveTextAsync(), Is.EqualTo("c #00ff00 2 2 2;"));

            // A new build of the plugin: any change to its files is a new generation.
            var manifest = Path.Combine(folder.Path, "mirror", "mirror.json");
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"", StringComparison.Ordinal));
            var change = await server.Context.ReloadPluginAsync(Path.Combine(folder.Path, "mirror"));
            Assert.That(change?.Next?.Number, Is.EqualTo(2));
            await WaitLongAsync(() => server.Context.Status.GetSnapshot().Plugins.Single().Generations.Single(g => g.Number == 1).State == "unloaded");

            await alice.SendTextAsync("d #0000ff 1 2 3 4;");
            Assert.That(await alice.ReceiveTextAsync(), Is.EqualTo("d #0000ff 1 2 3 4;"));
            Assert.That(await bob.ReceiveTextAsync(), Is.EqualTo("d #0000ff 1 2 3 4;"), "both members moved to the new code together");
            var protocol = server.Context.Status.GetSnapshot().Vhosts.Single().Protocols.Single();
            Assert.That(protocol.Generation, Is.EqualTo(2));
            Assert.That(protocol.Sessions, Is.EqualTo(2));
        }
        finally
        {
            folder.Dispose();
        }
    }

    private async Task<LoopbackServer> StartAsync(TimeProvider time, bool watch, PluginReloadPolicy? policy = null)
    {
        var vhost = LoopbackServer.Vhost("reload", Protocol);
        vhost.ReloadPolicy = policy;
        return await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = _plugins.Path, WatchPlugins = watch, Vhosts = [vhost] }, time);
    }

    private static async Task<WsClient> ConnectAsync(LoopbackServer server) => await WsClient.ConnectAsync(server.WebSocketUri("reload"), Protocol);

    private static async Task<string> EchoAsync(WsClient client, string text)
    {
        await client.SendTextAsync(text);
        return await client.ReceiveTextAsync();
    }

    private static async Task<HttpStatusCode?> HandshakeStatusAsync(LoopbackServer server)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Protocol);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(server.WebSocketUri("reload"), CancellationToken.None);
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    /// <summary>Makes a change, waits until the watcher saw it, moves fake time past the debounce, and waits for the reload.</summary>
    private static async Task AfterWatcherSawAsync(LoopbackServer server, FakeTimeProvider time, Action change, int expectActive = 2)
    {
        var watcher = server.Context.Watcher!;
        var seen = watcher.ObservedChanges;
        change();
        await WaitLongAsync(() => watcher.ObservedChanges > seen);

        // Events of one deploy may trickle in; each re-arms the debounce, and the content hash makes repeats no-ops.
        var entry = server.Context.Catalog.Plugins.Single(p => p.Id == "versioned");
        await WaitLongAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            return watcher.PendingReloads == 0 && entry.Generations.Count >= expectActive && (entry.Latest!.State != PluginGenerationState.Active || entry.Active!.Number >= expectActive);
        });
    }

    private static void AssertGenerations(LoopbackServer server, int expected)
    {
        var generations = server.Context.Catalog.Plugins.Single(p => p.Id == "versioned").Generations;
        Assert.That(generations.Select(g => g.Number), Is.EqualTo(Enumerable.Range(1, expected)), "exactly one reload");
        Assert.That(generations[^1].State, Is.EqualTo(PluginGenerationState.Active));
    }

    private static async Task WarmUpAsync(LoopbackServer server)
    {
        await using var client = await ConnectAsync(server);
        await EchoAsync(client, "warm");
    }

    private static async Task<(int Exchanges, List<string> Failures)> RunLoadAsync(LoopbackServer server, int worker, StrongBox<int> completed, CancellationToken stop)
    {
        await Task.Yield();
        var failures = new List<string>();
        var exchanges = 0;
        for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
        {
            try
            {
                await using var client = await ConnectAsync(server);
                for (var m = 0; m < 3; m++)
                {
                    var text = $"w{worker}-{i}-{m}";
                    var reply = await EchoAsync(client, text);
                    if (reply != "v1:" + text && reply != "v2:" + text)
                    {
                        failures.Add($"{text} -> {reply}");
                    }
                }

                await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
                exchanges++;
                Interlocked.Increment(ref completed.Value);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException)
            {
                failures.Add(ex.Message);
            }
        }

        return (exchanges, failures);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int CountAlive(List<WeakReference> contexts)
    {
        for (var i = 0; i < 20 && contexts.Any(c => c.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return contexts.Count(c => c.IsAlive);
    }

    private static long CollectAndMeasure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LwsPlugins.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("LwsPlugins.sln not found above the test folder");
    }

    private static (int ExitCode, string Output) RunDotnet(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "dotnet build timed out");
        }

        return (process.ExitCode, output.Result + error.Result);
    }

    private static Task WaitLongAsync(Func<bool> condition) => Eventually.WaitUntilAsync(condition, TimeSpan.FromSeconds(30));
}
