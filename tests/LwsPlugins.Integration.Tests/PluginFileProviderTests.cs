using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>A VFS provider exported by a plugin assembly loaded from disk serves its prefix until its plugin is retired.</summary>
[TestFixture]
public sealed class PluginFileProviderTests
{
    [Test]
    public async Task PluginProvider_ServesItsPrefixThroughAFileMount_UntilThePluginIsRemoved()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "http-callback");
        var vhost = LoopbackServer.Vhost("files", "http-callback-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/files", Origin = "file:///plugin-files" }];
        await using var server = await LoopbackServer.StartAsync(plugins.Path, vhost);
        using var http = new HttpClient();

        using (var hello = await http.GetAsync(server.HttpUri("files", "/files/hello.txt")))
        {
            Assert.That(hello.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(hello.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(await hello.Content.ReadAsStringAsync(), Is.EqualTo("hello from plugin http-callback at /plugin-files"));
        }

        using (var folder = await http.GetAsync(server.HttpUri("files", "/files/docs/")))
        {
            Assert.That(folder.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the mount's default document comes from the plugin's provider too");
            Assert.That(await folder.Content.ReadAsStringAsync(), Does.Contain("plugin docs"));
        }

        Assert.That(server.Logs.Entries.Any(e => e.EventId.Id == 108 && e.Message.Contains("/plugin-files", StringComparison.Ordinal)));

        var pluginFolder = Path.Combine(plugins.Path, "http-callback");
        Directory.Delete(pluginFolder, recursive: true);
        await server.Context.ReloadPluginAsync(pluginFolder);

        using var gone = await http.GetAsync(server.HttpUri("files", "/files/hello.txt"));
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the retired plugin's provider no longer serves, and nothing falls through to the disk");
        Assert.That(server.Context.Vfs.Prefixes, Does.Not.Contain("/plugin-files"));
    }

    [Test]
    public async Task PluginProvider_WhosePrefixIsConfiguredAlready_IsNotServed_AndTheConflictIsLogged()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "http-callback");
        var configured = Path.Combine(plugins.Path, "..", "lws-configured-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(configured);
        File.WriteAllText(Path.Combine(configured, "hello.txt"), "from the configured folder");
        var vhost = LoopbackServer.Vhost("files", "http-callback-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/files", Origin = "file:///plugin-files" }];
        var options = new LwsServerOptions
        {
            PluginsPath = plugins.Path,
            FileProviders = [new FileProviderOptions { Prefix = "/plugin-files", Folder = configured }],
            Vhosts = [vhost],
        };
        try
        {
            await using var server = await LoopbackServer.StartAsync(options, TimeProvider.System);
            using var http = new HttpClient();

            Assert.That(await http.GetStringAsync(server.HttpUri("files", "/files/hello.txt")), Is.EqualTo("from the configured folder"));
            var conflict = server.Logs.Entries.Single(e => e.EventId.Id == 109);
            Assert.That(conflict.Message, Does.Contain("http-callback").And.Contain("/plugin-files"));
        }
        finally
        {
            Directory.Delete(configured, recursive: true);
        }
    }
}
