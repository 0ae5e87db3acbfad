using System.Text.Json;
using System.Text.Json.Nodes;
using LwsPlugins.Host.Plugins;
using NuGet.Versioning;

namespace LwsPlugins.Host.Tests.Plugins;

[TestFixture]
public sealed class PluginManifestReaderTests
{
    private string _root = null!;

    private static IEnumerable<TestCaseData> InvalidFields()
    {
        yield return Case("unknown field", m => m["bogus"] = 1, "bogus");
        yield return Case("field name in another case", m => m["ID"] = "foo", "ID");
        yield return Case("missing id", m => m.Remove("id"), "id");
        yield return Case("id not a string", m => m["id"] = 7, "id");
        yield return Case("id with upper case", m => m["id"] = "Foo", "id");
        yield return Case("id with a space", m => m["id"] = "fo o", "id");
        yield return Case("id not matching the file name", m => m["id"] = "bar", "id");
        yield return Case("missing assembly", m => m.Remove("assembly"), "assembly");
        yield return Case("empty assembly", m => m["assembly"] = "", "assembly");
        yield return Case("assembly with '/'", m => m["assembly"] = "bin/Foo.Plugin.dll", "assembly");
        yield return Case("assembly with '\\'", m => m["assembly"] = "..\\Foo.Plugin.dll", "assembly");
        yield return Case("assembly not a .dll", m => m["assembly"] = "Foo.Plugin.exe", "assembly");
        yield return Case("missing version", m => m.Remove("version"), "version");
        yield return Case("bad version", m => m["version"] = "one.two", "version");
        yield return Case("missing sdk", m => m.Remove("sdk"), "sdk");
        yield return Case("bad sdk range", m => m["sdk"] = "banana", "sdk");
        yield return Case("sdk range the host does not satisfy", m => m["sdk"] = "[2.0.0, 3.0.0)", "sdk");
        yield return Case("missing protocols", m => m.Remove("protocols"), "protocols");
        yield return Case("empty protocols", m => m["protocols"] = new JsonArray(), "protocols");
        yield return Case("protocols not an array", m => m["protocols"] = new JsonObject { ["name"] = "foo-a" }, "protocols");
        yield return Case("protocol not an object", m => m["protocols"] = new JsonArray("foo-a"), "protocols[0]");
        yield return Case("protocol without name", m => m["protocols"] = new JsonArray(new JsonObject { ["options"] = new JsonObject() }), "protocols[0].name");
        yield return Case("protocol name not a string", m => m["protocols"] = new JsonArray(new JsonObject { ["name"] = 3 }), "protocols[0].name");
        yield return Case("invalid protocol name", m => m["protocols"] = new JsonArray(Protocol("foo-a"), Protocol("a b")), "protocols[1].name");
        yield return Case("empty protocol name", m => m["protocols"] = new JsonArray(Protocol("")), "protocols[0].name");
        yield return Case("duplicate protocol name", m => m["protocols"] = new JsonArray(Protocol("foo-a"), Protocol("foo-b"), Protocol("foo-a")), "protocols[2].name");
        yield return Case("options not an object", m => m["protocols"] = new JsonArray(new JsonObject { ["name"] = "foo-a", ["options"] = new JsonArray(1) }), "protocols[0].options");

        static TestCaseData Case(string name, Action<JsonObject> breakIt, string field)
            => new TestCaseData(breakIt, field).SetArgDisplayNames(name);

        static JsonObject Protocol(string name) => new() { ["name"] = name };
    }

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "lws-manifest-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    [Test]
    public void Read_ValidManifest_ReadsEveryField()
    {
        var path = Write("foo", """
            {
              // the plugin's own comment
              "id": "foo",
              "assembly": "Foo.Plugin.dll",
              "version": "1.2.3-beta.1",
              "sdk": "[1.0.0, 2.0.0)",
              "description": "a test plugin",
              "protocols": [
                { "name": "foo-a", "options": { "intervalMs": 50, "greeting": "hi" } },
                { "name": "foo-b" },
              ]
            }
            """);

        var manifest = PluginManifestReader.Read(path);

        Assert.That(manifest.Id, Is.EqualTo("foo"));
        Assert.That(manifest.Assembly, Is.EqualTo("Foo.Plugin.dll"));
        Assert.That(manifest.Version, Is.EqualTo(NuGetVersion.Parse("1.2.3-beta.1")));
        Assert.That(manifest.SdkRange, Is.EqualTo(VersionRange.Parse("[1.0.0, 2.0.0)")));
        Assert.That(manifest.FilePath, Is.EqualTo(Path.GetFullPath(path)));
        Assert.That(manifest.Directory, Is.EqualTo(Path.GetFullPath(Path.Combine(_root, "foo"))));
        Assert.That(manifest.AssemblyPath, Is.EqualTo(Path.GetFullPath(Path.Combine(_root, "foo", "Foo.Plugin.dll"))));
        Assert.That(manifest.Protocols.Select(p => p.Name), Is.EqualTo(new[] { "foo-a", "foo-b" }));

        var defaults = manifest.Protocols[0].DefaultOptions;
        Assert.That(defaults, Is.Not.Null);
        Assert.That(defaults!.Value.GetProperty("intervalMs").GetInt32(), Is.EqualTo(50));
        Assert.That(defaults.Value.GetProperty("greeting").GetString(), Is.EqualTo("hi"));
        Assert.That(manifest.Protocols[1].DefaultOptions, Is.Null);
    }

    [Test]
    public void Read_DefaultOptions_OutliveTheParsedDocument()
    {
        var path = Write("foo", ValidManifest().ToJsonString());

        var manifest = PluginManifestReader.Read(path);

        // The reader disposes its JsonDocument; the options must have been cloned out of it.
        Assert.That(manifest.Protocols[0].DefaultOptions!.Value.GetRawText(), Does.Contain("\"intervalMs\":50"));
    }

    [Test]
    public void Read_SdkRangeIncludingTheHostVersion_IsAccepted()
    {
        var manifest = ValidManifest();
        manifest["sdk"] = $"[{PluginManifestReader.HostSdkVersion}]";

        var read = PluginManifestReader.Read(Write("foo", manifest.ToJsonString()));

        Assert.That(read.SdkRange.Satisfies(PluginManifestReader.HostSdkVersion), Is.True);
    }

    [Test]
    public void HostSdkVersion_IsTheSdkPackageVersionWithoutBuildMetadata()
    {
        Assert.That(PluginManifestReader.HostSdkVersion, Is.EqualTo(new NuGetVersion(1, 1, 0)));
    }

    [TestCaseSource(nameof(InvalidFields))]
    public void Read_InvalidField_ThrowsNamingFileAndField(Action<JsonObject> breakIt, string field)
    {
        var manifest = ValidManifest();
        breakIt(manifest);
        var path = Write("foo", manifest.ToJsonString());

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Does.StartWith($"{path}: {field}: "));
    }

    [Test]
    public void Read_IdNotMatchingFileName_SaysWhichFileNameTheIdNeeds()
    {
        var manifest = ValidManifest();
        manifest["id"] = "bar";
        var path = Write("foo", manifest.ToJsonString());

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Does.Contain("bar.json"));
    }

    [Test]
    public void Read_SdkRangeNotSatisfied_NamesTheRangeAndTheHostVersion()
    {
        var manifest = ValidManifest();
        manifest["sdk"] = "[2.0.0, 3.0.0)";
        var path = Write("foo", manifest.ToJsonString());

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Does.Contain("2.0.0"));
        Assert.That(ex.Message, Does.Contain($"this host has {PluginManifestReader.HostSdkVersion}"));
    }

    [Test]
    public void Read_InvalidJson_NamesFileAndLine()
    {
        var path = Write("foo", "{\n  \"id\": \"foo\",\n  \"assembly\": \"Foo.dll\"\n  \"version\": \"1.0.0\"\n}");

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Does.StartWith($"{path}: not valid JSON"));
        Assert.That(ex.Message, Does.Contain("line 4"));
        Assert.That(ex.Message, Does.Not.Contain("LineNumber"), "one line number, the user's (1-based), not the parser's 0-based one beside it");
        Assert.That(ex.InnerException, Is.InstanceOf<JsonException>());
    }

    [TestCase("[ { \"id\": \"foo\" } ]")]
    [TestCase("\"foo\"")]
    [TestCase("null")]
    public void Read_RootNotAnObject_NamesFile(string json)
    {
        var path = Write("foo", json);

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Is.EqualTo($"{path}: the manifest must be a JSON object."));
    }

    [Test]
    public void Read_MissingFile_NamesFile()
    {
        var path = Path.Combine(_root, "foo", "foo.json");

        var ex = Assert.Throws<PluginLoadException>(() => PluginManifestReader.Read(path));

        Assert.That(ex.Message, Does.StartWith($"{path}: cannot read the manifest"));
    }

    private static JsonObject ValidManifest() => new()
    {
        ["id"] = "foo",
        ["assembly"] = "Foo.Plugin.dll",
        ["version"] = "1.0.0",
        ["sdk"] = "[1.0.0, 2.0.0)",
        ["protocols"] = new JsonArray(
            new JsonObject { ["name"] = "foo-a", ["options"] = new JsonObject { ["intervalMs"] = 50 } },
            new JsonObject { ["name"] = "foo-b" }),
    };

    private string Write(string id, string json)
    {
        var folder = Path.Combine(_root, id);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, id + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
