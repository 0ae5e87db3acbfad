using System.Text.Json;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Tests.Configuration;

[TestFixture]
public sealed class LwsServerConfigFileTests
{
    private const string Source = "test-config.json";

    private const string TwoVhosts = """
        {
          "pluginsPath": "my-plugins",
          "vhosts": [
            {
              "name": "localhost",
              "port": 7681,
              "protocols": {
                "lws-minimal": {},
                "dumb-increment-protocol": { "intervalMs": 50, "nested": { "list": [1, 2] } },
                "lws-status": null
              },
              "mounts": [ { "mountPoint": "/", "origin": "www", "defaultDocuments": ["test.html"] } ]
            },
            {
              "name": "second",
              "address": "0.0.0.0",
              "port": 0,
              "protocols": [ "z-protocol", "a-protocol" ],
              "slowConsumerPolicy": "dropOldest",
              "pingIntervalMs": 30000,
              "maxMessageSize": 4096,
              "sendQueueLimit": 16,
              "closeTimeoutMs": 250
            }
          ]
        }
        """;

    private string _tempDirectory = null!;

    [SetUp]
    public void CreateTempDirectory()
    {
        _tempDirectory = Path.Combine(Path.GetTempPath(), "lws-config-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tempDirectory);
    }

    [TearDown]
    public void DeleteTempDirectory() => Directory.Delete(_tempDirectory, recursive: true);

    [Test]
    public void Parse_TwoVhosts_ReadsBothInOrder()
    {
        var options = LwsServerConfigFile.Parse(TwoVhosts, Source);

        Assert.That(options.PluginsPath, Is.EqualTo("my-plugins"));
        Assert.That(options.Vhosts.Select(v => v.Name), Is.EqualTo(new[] { "localhost", "second" }));
    }

    [Test]
    public void Parse_ProtocolsObject_KeepsTheOrderOfNames()
    {
        var vhost = LwsServerConfigFile.Parse(TwoVhosts, Source).Vhosts[0];

        Assert.That(vhost.Protocols!.Select(p => p.Name), Is.EqualTo(new[] { "lws-minimal", "dumb-increment-protocol", "lws-status" }));
    }

    [Test]
    public void Parse_ProtocolsObject_PreservesEachProtocolsOptions()
    {
        var protocols = LwsServerConfigFile.Parse(TwoVhosts, Source).Vhosts[0].Protocols;

        var empty = protocols![0].Options;
        Assert.That(empty, Is.Not.Null);
        Assert.That(empty!.Value.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(empty.Value.EnumerateObject().Count(), Is.Zero);

        var dumb = protocols[1].Options;
        Assert.That(dumb, Is.Not.Null);
        Assert.That(dumb!.Value.GetProperty("intervalMs").GetInt32(), Is.EqualTo(50));
        Assert.That(
            dumb.Value.GetProperty("nested").GetProperty("list").EnumerateArray().Select(e => e.GetInt32()),
            Is.EqualTo(new[] { 1, 2 }));

        Assert.That(protocols[2].Options, Is.Null);
    }

    [Test]
    public void Parse_VhostWithoutProtocols_ServesEveryPlugin()
    {
        var vhost = LwsServerConfigFile.Parse("""{ "vhosts": [ { "name": "a", "port": 0 } ] }""", Source).Vhosts[0];

        Assert.That(vhost.Protocols, Is.Null);
        Assert.That(vhost.ServesAllPlugins, Is.True);
    }

    [Test]
    public void AVhostWithoutProtocols_SurvivesASerializationRoundTrip_StillServingEveryPlugin()
    {
        // SIGUSR1's second vhost and the live configuration's change detection copy vhosts through JSON.
        var copy = JsonSerializer.Deserialize<VhostOptions>(JsonSerializer.Serialize(new VhostOptions { Name = "a" }))!;

        Assert.That(copy.Protocols, Is.Null);
        Assert.That(copy.ServesAllPlugins, Is.True);
    }

    [Test]
    public void Parse_ProtocolsWithTheWildcard_ListsItAfterTheNamedOnes()
    {
        var vhost = LwsServerConfigFile.Parse("""{ "vhosts": [ { "name": "a", "protocols": { "lws-mirror-protocol": { "maxInstances": 5 }, "*": {} } } ] }""", Source).Vhosts[0];

        Assert.That(vhost.Protocols!.Select(p => p.Name), Is.EqualTo(new[] { "lws-mirror-protocol", "*" }));
        Assert.That(vhost.ServesAllPlugins, Is.True);
    }

    [Test]
    public void Parse_ProtocolsArrayOfNames_KeepsOrderWithoutOptions()
    {
        var vhost = LwsServerConfigFile.Parse(TwoVhosts, Source).Vhosts[1];

        Assert.That(vhost.Protocols, Is.EqualTo(new[] { new ProtocolSelection("z-protocol"), new ProtocolSelection("a-protocol") }));
    }

    [Test]
    public void Parse_VhostSettings_AreRead()
    {
        var options = LwsServerConfigFile.Parse(TwoVhosts, Source);
        var first = options.Vhosts[0];
        var second = options.Vhosts[1];

        Assert.That(first.Address, Is.EqualTo("127.0.0.1"), "default address");
        Assert.That(first.Port, Is.EqualTo(7681));
        Assert.That(first.Mounts, Has.Count.EqualTo(1));
        Assert.That(first.Mounts[0].MountPoint, Is.EqualTo("/"));
        Assert.That(first.Mounts[0].Origin, Is.EqualTo("www"));
        Assert.That(first.Mounts[0].DefaultDocuments, Is.EqualTo(new[] { "test.html" }));
        Assert.That(second.Address, Is.EqualTo("0.0.0.0"));
        Assert.That(second.Port, Is.Zero);
        Assert.That(second.SlowConsumerPolicy, Is.EqualTo(SlowConsumerPolicy.DropOldest));
        Assert.That(second.PingIntervalMs, Is.EqualTo(30000));
        Assert.That(second.MaxMessageSize, Is.EqualTo(4096));
        Assert.That(second.SendQueueLimit, Is.EqualTo(16));
        Assert.That(second.CloseTimeoutMs, Is.EqualTo(250));
    }

    [Test]
    public void Parse_HashCommentLines_AreAccepted()
    {
        const string json = """
            # lws-style configuration
            {
              # where the plugins live
                 # indented comment
              "pluginsPath": "p",
              "vhosts": [ { "name": "commented" } ]
            }
            """;

        var options = LwsServerConfigFile.Parse(json, Source);

        Assert.That(options.PluginsPath, Is.EqualTo("p"));
        Assert.That(options.Vhosts.Single().Name, Is.EqualTo("commented"));
    }

    [Test]
    public void Parse_HashInsideAStringValue_IsKept()
    {
        const string json = """
            # comment
            { "pluginsPath": "plugins#1", "vhosts": [ { "name": "a" } ] }
            """;

        Assert.That(LwsServerConfigFile.Parse(json, Source).PluginsPath, Is.EqualTo("plugins#1"));
    }

    [Test]
    public void Parse_SyntaxError_NamesSourceAndLine()
    {
        const string json = "{\n  \"pluginsPath\": \"p\",\n  \"vhosts\": [\n    { \"name\": \"a\" \"port\": 1 }\n  ]\n}";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.StartWith(Source));
        Assert.That(ex.Message, Does.Contain("line 4"));
        Assert.That(ex.InnerException, Is.InstanceOf<JsonException>());
    }

    [Test]
    public void Parse_SyntaxErrorAfterHashComments_ReportsTheLineOfTheOriginalText()
    {
        const string json = "# one\n# two\n{\n  \"pluginsPath\": \"p\"\n  \"vhosts\": []\n}";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain(Source));
        Assert.That(ex.Message, Does.Contain("line 5"));
    }

    [Test]
    public void Parse_UnknownVhostProperty_IsRejectedNamingIt()
    {
        const string json = """{ "vhosts": [ { "name": "a", "prot": 1 } ] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain(Source));
        Assert.That(ex.Message, Does.Contain("prot"));
    }

    [Test]
    public void Parse_UnknownTopLevelProperty_IsRejectedNamingIt()
    {
        const string json = """{ "pluginPath": "p", "vhosts": [] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain(Source));
        Assert.That(ex.Message, Does.Contain("pluginPath"));
    }

    [Test]
    public void Parse_ProtocolOptionsNotAnObject_IsRejectedNamingTheProtocol()
    {
        const string json = """{ "vhosts": [ { "name": "a", "protocols": { "lws-minimal": 5 } } ] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain(Source));
        Assert.That(ex.Message, Does.Contain("'lws-minimal'"));
    }

    [Test]
    public void Parse_DuplicateVhostNames_AreRejected()
    {
        const string json = """{ "vhosts": [ { "name": "twin", "port": 1 }, { "name": "twin", "port": 2 } ] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.StartWith(Source));
        Assert.That(ex.Message, Does.Contain("vhost 'twin': name: is used by two vhosts."));
    }

    [Test]
    public void Parse_VhostNamesDifferingOnlyInCase_AreDuplicates()
    {
        const string json = """{ "vhosts": [ { "name": "Example" }, { "name": "example" } ] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain("vhost 'example': name: is used by two vhosts."));
    }

    [Test]
    public void Parse_ValidationErrors_NameSourceVhostAndKey()
    {
        const string json = """
            { "vhosts": [
              { "name": "good" },
              { "name": "bad", "port": 70000, "protocols": { "a b": {} } }
            ] }
            """;

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.StartWith(Source + ": "));
        Assert.That(ex.Message, Does.Contain("vhost 'bad': port: "));
        Assert.That(ex.Message, Does.Contain("vhost 'bad': protocols[0]: "));
        Assert.That(ex.Message, Does.Not.Contain("vhost 'good'"));
    }

    [Test]
    public void Parse_EmptyPluginsPath_IsRejectedNamingTheKey()
    {
        const string json = """{ "pluginsPath": " ", "vhosts": [] }""";

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain("pluginsPath: must not be empty."));
    }

    [Test]
    public void Parse_JsonNull_IsRejectedAsEmpty()
    {
        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse("null", Source));

        Assert.That(ex.Message, Does.StartWith(Source));
        Assert.That(ex.Message, Does.Contain("empty"));
    }

    [TestCase("""{ "vhosts": null }""", "vhosts: must be an array")]
    [TestCase("""{ "vhosts": [ null ] }""", "vhosts[0]: must be an object")]
    [TestCase("""{ "vhosts": [ { "name": "a", "protocols": null } ] }""", "vhost 'a': protocols: must be an object of protocol names (or an array of names), not null; leave protocols out")]
    [TestCase("""{ "vhosts": [ { "name": "a", "mounts": null } ] }""", "vhost 'a': mounts:")]
    [TestCase("""{ "vhosts": [ { "name": "a", "mounts": [ null ] } ] }""", "vhost 'a': mounts[0]:")]
    public void Parse_JsonNullWhereACollectionBelongs_IsAConfigurationErrorNamingTheKey(string json, string expected)
    {
        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source));

        Assert.That(ex.Message, Does.Contain(Source));
        Assert.That(ex.Message, Does.Contain(expected));
    }

    [Test]
    public void Parse_ProtocolOptionsTrue_IsRejected()
        => Assert.Throws<LwsConfigurationException>(
            () => LwsServerConfigFile.Parse("""{ "vhosts": [ { "name": "a", "protocols": { "x": true } } ] }""", Source));

    [Test]
    public void Load_MissingFile_ThrowsNamingThePath()
    {
        var path = Path.Combine(_tempDirectory, "missing.json");

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Load(path));

        Assert.That(ex.Message, Does.StartWith(path + ": "));
        Assert.That(ex.InnerException, Is.InstanceOf<IOException>());
    }

    [Test]
    public void Load_SlowConsumerKeys_DefaultToBackpressureWithAThreeSecondStall_AndParse()
    {
        var path = Path.Combine(_tempDirectory, "lws.json");
        File.WriteAllText(path, """{ "vhosts": [ { "name": "v1" }, { "name": "v2", "slowConsumerPolicy": "backpressure", "stallTimeoutMs": 500 }, { "name": "v3", "slowConsumerPolicy": "close" } ] }""");

        var vhosts = LwsServerConfigFile.Load(path).Vhosts;

        Assert.That(vhosts.Select(v => (v.SlowConsumerPolicy, v.StallTimeoutMs)), Is.EqualTo(new[]
        {
            (SlowConsumerPolicy.Backpressure, 3000), (SlowConsumerPolicy.Backpressure, 500), (SlowConsumerPolicy.Close, 3000),
        }));
    }

    [Test]
    public void Load_FileWithAnInvalidVhost_NamesThePathVhostAndKey()
    {
        var path = Path.Combine(_tempDirectory, "lws.json");
        File.WriteAllText(path, """{ "vhosts": [ { "name": "v1", "sendQueueLimit": 0 } ] }""");

        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Load(path));

        Assert.That(ex.Message, Does.StartWith(path + ": "));
        Assert.That(ex.Message, Does.Contain("vhost 'v1': sendQueueLimit: "));
    }

    [Test]
    public void Load_ValidFile_ReturnsItsOptions()
    {
        var path = Path.Combine(_tempDirectory, "lws.json");
        File.WriteAllText(path, TwoVhosts);

        var options = LwsServerConfigFile.Load(path);

        Assert.That(options.Vhosts.Select(v => v.Name), Is.EqualTo(new[] { "localhost", "second" }));
    }

    [Test]
    public void Parse_TlsInterfaceAndPrivileges_AreReadByName()
    {
        var options = LwsServerConfigFile.Parse("""
            {
              "user": "nobody", "gid": 65534,
              "vhosts": [ { "name": "secure.example", "address": "eth0", "bindInterface": true, "port": 443, "protocols": [],
                "tls": { "certificate": "c.pem", "key": "k.pem", "ca": "ca.pem", "clientCertificate": "optional", "redirectHttpPort": 80 } } ]
            }
            """, Source);

        var vhost = options.Vhosts[0];
        Assert.That((options.User, options.Gid), Is.EqualTo(("nobody", (int?)65534)));
        Assert.That(vhost.BindInterface, Is.True);
        Assert.That(vhost.Tls, Is.Not.Null);
        Assert.That((vhost.Tls!.Certificate, vhost.Tls.Key, vhost.Tls.Ca), Is.EqualTo(("c.pem", "k.pem", "ca.pem")));
        Assert.That(vhost.Tls.ClientCertificate, Is.EqualTo(TlsClientCertificateMode.Optional));
        Assert.That(vhost.Tls.RedirectHttpPort, Is.EqualTo(80));
    }

    [Test]
    public void Parse_TlsWithoutAKey_NamesTheSourceVhostAndKey()
    {
        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(
            """{ "vhosts": [ { "name": "secure", "tls": { "certificate": "c.pem" } } ] }""", Source))!;

        Assert.That(ex.Message, Does.StartWith(Source + ": ").And.Contain("vhost 'secure': tls.key: is required"));
    }

    [Test]
    public void Parse_ServerCertificateInJson_IsNotRead_SoTheFilesAreStillRequired()
    {
        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(
            """{ "vhosts": [ { "name": "secure", "tls": { "serverCertificate": "x" } } ] }""", Source))!;

        Assert.That(ex.Message, Does.Contain("vhost 'secure': tls.certificate: is required").And.Contain("vhost 'secure': tls.key: is required"));
    }

    [TestCase("""{ "user": "nobody", "uid": 65534 }""", "uid: set user or uid, not both.")]
    [TestCase("""{ "group": "nogroup", "gid": 65534 }""", "gid: set group or gid, not both.")]
    [TestCase("""{ "uid": -1 }""", "uid: must not be negative, was -1.")]
    [TestCase("""{ "group": " " }""", "group: must be a name or a numeric id when set.")]
    public void Parse_InvalidUserOrGroup_NamesTheKey(string json, string error)
    {
        var ex = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, Source))!;

        Assert.That(ex.Message, Is.EqualTo($"{Source}: {error}"));
    }
}
