using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Moq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Vhosts;

/// <summary>A vhost on its own (no listener, no socket): its HTTP pipeline, its changes in place, its destruction.</summary>
[TestFixture]
public sealed class VhostTests
{
    private readonly FakeTimeProvider _time = new();
    private LwsMetrics _metrics = null!;
    private ServiceProvider _services = null!;
    private string _site = null!;
    private int _statusChanges;

    [SetUp]
    public void Create()
    {
        _metrics = new LwsMetrics(null);
        // What the shared server's services give a pipeline (StaticFiles asks for the web host's environment).
        var environment = Mock.Of<IWebHostEnvironment>(e => e.WebRootFileProvider == new NullFileProvider() && e.ContentRootPath == Path.GetTempPath());
        _services = new ServiceCollection().AddLogging().AddRouting().AddSingleton(environment).BuildServiceProvider();
        _site = Directory.CreateTempSubdirectory("lws-vhost-").FullName;
        File.WriteAllText(Path.Combine(_site, "a.txt"), "from a");
    }

    [TearDown]
    public async Task Dispose()
    {
        await _services.DisposeAsync();
        _metrics.Dispose();
        Directory.Delete(_site, recursive: true);
    }

    private Vhost NewVhost(VhostOptions options)
        => new(options, IPAddress.Loopback, [], tls: null, _time, NullLoggerFactory.Instance, _metrics, () => _statusChanges++);

    private VhostHttpPipeline Pipeline(Vhost vhost, VhostOptions options)
        => VhostHttpPipeline.Build(vhost, options, vhost.Protocols, _services, _site, new VirtualFileSystem(new ConfinedPhysicalFileProvider("/")), NullLogger.Instance);

    private static async Task<(int Status, string Body)> GetAsync(Vhost vhost, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        var body = new MemoryStream();
        context.Response.Body = body;
        await vhost.HandleAsync(context);
        return (context.Response.StatusCode, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }

    private VhostOptions WithMount(string mountPoint) => new()
    {
        Name = "v",
        Port = 0,
        Mounts = [new MountOptions { MountPoint = mountPoint, Origin = "file://" + _site }],
    };

    [Test]
    public async Task BeforeItHasAPipeline_EveryRequestIs404()
    {
        await using var vhost = NewVhost(new VhostOptions { Name = "v", Port = 0 });

        Assert.That((await GetAsync(vhost, "/a.txt")).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task ItsPipeline_ServesItsMounts()
    {
        var options = WithMount("/files");
        await using var vhost = NewVhost(options);
        vhost.UsePipeline(Pipeline(vhost, options));

        Assert.That(await GetAsync(vhost, "/files/a.txt"), Is.EqualTo((200, "from a")));
        Assert.That((await GetAsync(vhost, "/elsewhere/a.txt")).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task Reconfigure_SwapsTheOptionsAndTheMounts_InOneStep()
    {
        var before = WithMount("/old");
        await using var vhost = NewVhost(before);
        vhost.UsePipeline(Pipeline(vhost, before));
        var after = WithMount("/new");
        after.MaxMessageSize = 4096;

        vhost.Reconfigure(after, Pipeline(vhost, after), tls: null);

        Assert.That(vhost.Options, Is.SameAs(after));
        Assert.That(await GetAsync(vhost, "/new/a.txt"), Is.EqualTo((200, "from a")));
        Assert.That((await GetAsync(vhost, "/old/a.txt")).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task StopAsync_WithoutSessions_EndsAtOnce_AndLaterRequestsAre503()
    {
        await using var vhost = NewVhost(new VhostOptions { Name = "v", Port = 0 });

        await vhost.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.That(vhost.State, Is.EqualTo(VhostState.Destroying));
        Assert.That((await GetAsync(vhost, "/")).Status, Is.EqualTo(503), "no listener to reroute to: refused, not served");
    }

    [Test]
    public async Task AddAndRemoveProtocol_ChangeTheSnapshotReadersTake_NotOnesTheyHold()
    {
        await using var vhost = NewVhost(new VhostOptions { Name = "v", Port = 0 });
        var held = vhost.Protocols;
        var protocol = new VhostProtocol("p", null, null, "not loaded");

        vhost.AddProtocol(protocol);

        Assert.That(held, Is.Empty);
        Assert.That(vhost.Protocols, Is.EqualTo(new[] { protocol }));
        vhost.RemoveProtocol(protocol);
        Assert.That(vhost.Protocols, Is.Empty);
    }

    [Test]
    public async Task Listening_AndAttachedTo_AreTheOnlyWaysItsEndPointAndRerouteAreSet()
    {
        await using var vhost = NewVhost(new VhostOptions { Name = "v", Port = 0 });
        var endPoint = new IPEndPoint(IPAddress.Loopback, 4321);
        var rerouted = 0;

        vhost.Listening(endPoint);
        vhost.AttachedTo(_ => { rerouted++; return Task.CompletedTask; });
        vhost.AttachedTo(_ => throw new InvalidOperationException("a second listener (the redirect port) does not take the reroute"));
        await vhost.StopAsync();
        await GetAsync(vhost, "/");

        Assert.That(vhost.EndPoint, Is.EqualTo(endPoint));
        Assert.That(rerouted, Is.EqualTo(1), "a request that reaches a vhost being destroyed goes back through its listener");
    }
}
