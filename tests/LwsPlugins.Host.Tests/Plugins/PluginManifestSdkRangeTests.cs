using LwsPlugins.Host.Plugins;

namespace LwsPlugins.Host.Tests.Plugins;

[TestFixture]
public sealed class PluginManifestSdkRangeTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "lws-sdk-range-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [TestCase("[2.0.0, 3.0.0)")]
    [TestCase("[0.5.0, 0.9.0]")]
    public void RangeTheHostDoesNotSatisfy_IsRefusedNamingTheFileTheFieldAndTheFix(string range)
    {
        var path = Path.Combine(_folder, "foo.json");
        File.WriteAllText(path, $$"""{ "id": "foo", "assembly": "Foo.dll", "version": "1.0.0", "sdk": "{{range}}", "protocols": [ { "name": "foo-protocol" } ] }""");

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex!.Message, Does.StartWith(path + ": sdk: the plugin needs SDK"));
        Assert.That(ex.Message, Does.Contain($"this host has {PluginManifestReader.HostSdkVersion}"));
        Assert.That(ex.Message, Does.Contain($"Fix: rebuild the plugin against LwsPlugins.Sdk 1.x and set \"sdk\" to a range that includes {PluginManifestReader.HostSdkVersion} (e.g. \"[1.0.0, 2.0.0)\")"));
    }
}
