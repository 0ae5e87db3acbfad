using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace LwsPlugins.Host.Tests.Configuration;

/// <summary>
/// Bad configurations and the message each gets: the vhost by name, the key, what was expected and what was given,
/// the file and the line, in the user's words (no JSON paths, no .NET type names).
/// </summary>
[TestFixture]
public sealed class BadConfigurationTableTests
{
    private static IEnumerable<TestCaseData> ServerFiles()
    {
        // Types of the vhost's keys.
        yield return Case("port as a string", """{ "vhosts": [ { "name": "v1", "port": "abc" } ] }""", """vhost 'v1': port: must be a whole number from 0 to 65535, was "abc" (server.json, line 1)""");
        yield return Case("port null", """{ "vhosts": [ { "name": "v1", "port": null } ] }""", "vhost 'v1': port: must be a whole number from 0 to 65535, was null (server.json, line 1)");
        yield return Case("port an object", """{ "vhosts": [ { "name": "v1", "port": { "n": 1 } } ] }""", "vhost 'v1': port: must be a whole number from 0 to 65535, was an object (server.json, line 1)");
        yield return Case("port 1.5", """{ "vhosts": [ { "name": "v1", "port": 1.5 } ] }""", "vhost 'v1': port: must be a whole number from 0 to 65535, was 1.5 (server.json, line 1)");
        yield return Case("port an array", """{ "vhosts": [ { "name": "v1", "port": [ 80 ] } ] }""", "vhost 'v1': port: must be a whole number from 0 to 65535, was an array (server.json, line 1)");
        yield return Case("port true", """{ "vhosts": [ { "name": "v1", "port": true } ] }""", "vhost 'v1': port: must be a whole number from 0 to 65535, was true (server.json, line 1)");
        yield return Case("port on line 4", "{\n  \"vhosts\": [ {\n    \"name\": \"v1\",\n    \"port\": \"abc\"\n  } ]\n}", """vhost 'v1': port: must be a whole number from 0 to 65535, was "abc" (server.json, line 4)""");
        yield return Case("port before the name", """{ "vhosts": [ { "port": "x", "name": "late" } ] }""", """vhost 'late': port: must be a whole number from 0 to 65535, was "x" (server.json, line 1)""");
        yield return Case("second vhost", """{ "vhosts": [ { "name": "ok", "port": 0 }, { "name": "v2", "maxMessageSize": "big" } ] }""", """vhost 'v2': maxMessageSize: must be a whole number, was "big" (server.json, line 1)""");
        yield return Case("vhost without a name", """{ "vhosts": [ { "port": "x" } ] }""", """vhosts[0]: port: must be a whole number from 0 to 65535, was "x" (server.json, line 1)""");
        yield return Case("sendQueueLimit null", """{ "vhosts": [ { "name": "v1", "sendQueueLimit": null } ] }""", "vhost 'v1': sendQueueLimit: must be a whole number, was null (server.json, line 1)");
        yield return Case("idleTimeoutMs a string", """{ "vhosts": [ { "name": "v1", "idleTimeoutMs": "5s" } ] }""", """vhost 'v1': idleTimeoutMs: must be a whole number, was "5s" (server.json, line 1)""");
        yield return Case("accessLogMaxBytes 1e3.5", """{ "vhosts": [ { "name": "v1", "accessLogMaxBytes": 10.5 } ] }""", "vhost 'v1': accessLogMaxBytes: must be a whole number (of bytes), was 10.5 (server.json, line 1)");
        yield return Case("bindInterface a string", """{ "vhosts": [ { "name": "v1", "bindInterface": "yes" } ] }""", """vhost 'v1': bindInterface: must be true or false, was "yes" (server.json, line 1)""");
        yield return Case("bindInterface 1", """{ "vhosts": [ { "name": "v1", "bindInterface": 1 } ] }""", "vhost 'v1': bindInterface: must be true or false, was 1 (server.json, line 1)");
        yield return Case("webSocketFastPath a string", """{ "vhosts": [ { "name": "v1", "webSocketFastPath": "off" } ] }""", """vhost 'v1': webSocketFastPath: must be true or false, was "off" (server.json, line 1)""");
        yield return Case("name a number", """{ "vhosts": [ { "name": 5 } ] }""", "vhosts[0]: name: must be a string in quotes, was 5 (server.json, line 1)");
        yield return Case("address an array", """{ "vhosts": [ { "name": "v1", "address": [ "127.0.0.1" ] } ] }""", "vhost 'v1': address: must be a string in quotes, was an array (server.json, line 1)");
        yield return Case("healthPath true", """{ "vhosts": [ { "name": "v1", "healthPath": true } ] }""", "vhost 'v1': healthPath: must be a string in quotes, was true (server.json, line 1)");
        yield return Case("slowConsumerPolicy unknown", """{ "vhosts": [ { "name": "v1", "slowConsumerPolicy": "kick" } ] }""", """vhost 'v1': slowConsumerPolicy: must be one of "close", "dropOldest", "backpressure", was "kick" (server.json, line 1)""");
        yield return Case("mounts an object", """{ "vhosts": [ { "name": "v1", "mounts": { "mountPoint": "/" } } ] }""", "vhost 'v1': mounts: must be an array [ ... ], was an object (server.json, line 1)");
        yield return Case("mount a string", """{ "vhosts": [ { "name": "v1", "mounts": [ "/tmp" ] } ] }""", """vhost 'v1': mounts[0]: must be an object { ... }, was "/tmp" (server.json, line 1)""");
        yield return Case("mount origin a number", """{ "vhosts": [ { "name": "v1", "mounts": [ { "mountPoint": "/", "origin": 7 } ] } ] }""", "vhost 'v1': mounts[0].origin: must be a string in quotes, was 7 (server.json, line 1)");
        yield return Case("tls a string", """{ "vhosts": [ { "name": "v1", "tls": "on" } ] }""", """vhost 'v1': tls: must be an object { ... }, was "on" (server.json, line 1)""");
        yield return Case("observabilityAllowFrom a string", """{ "vhosts": [ { "name": "v1", "observabilityAllowFrom": "10.0.0.0/8" } ] }""", """vhost 'v1': observabilityAllowFrom: must be an array [ ... ], was "10.0.0.0/8" (server.json, line 1)""");

        // Required keys.
        yield return Case("mount without mountPoint", """{ "vhosts": [ { "name": "v1", "mounts": [ { "origin": "/tmp" } ] } ] }""", "vhost 'v1': mounts[0].mountPoint: is required (server.json, line 1)");
        yield return Case("mount without mountPoint, line 3", "{ \"vhosts\": [ { \"name\": \"v1\", \"mounts\": [\n  { \"mountPoint\": \"/a\", \"origin\": \"/tmp\" },\n  { \"origin\": \"/tmp\" } ] } ] }", "vhost 'v1': mounts[1].mountPoint: is required (server.json, line 3)");

        // Keys given twice.
        yield return Case("port twice", """{ "vhosts": [ { "name": "v1", "port": 1, "port": 2 } ] }""", "vhost 'v1': port: is given twice; each key may appear once (server.json, line 1)");
        yield return Case("port twice, other case", """{ "vhosts": [ { "name": "v1", "port": 1, "Port": 2 } ] }""", "vhost 'v1': Port: is given twice; each key may appear once (server.json, line 1)");
        yield return Case("name twice", "{ \"vhosts\": [ {\n \"name\": \"a\",\n \"name\": \"b\" } ] }", "vhost 'a': name: is given twice; each key may appear once (server.json, line 3)");
        yield return Case("vhosts twice", """{ "vhosts": [], "vhosts": [] }""", "vhosts: is given twice; each key may appear once (server.json, line 1)");
        yield return Case("mountPoint twice", """{ "vhosts": [ { "name": "v1", "mounts": [ { "mountPoint": "/", "mountPoint": "/x", "origin": "/tmp" } ] } ] }""", "vhost 'v1': mounts[0].mountPoint: is given twice; each key may appear once (server.json, line 1)");
        yield return Case("admin token twice", """{ "admin": { "token": "aaaaaaaaaaaaaaaaaaaa", "token": "bbbbbbbbbbbbbbbbbbbb" }, "vhosts": [] }""", "admin.token: is given twice; each key may appear once (server.json, line 1)");

        // Server-wide keys.
        yield return Case("handshakeTimeoutMs a string", """{ "handshakeTimeoutMs": "1s", "vhosts": [] }""", """handshakeTimeoutMs: must be a whole number, was "1s" (server.json, line 1)""");
        yield return Case("destroyDelayMs null", """{ "destroyDelayMs": null, "vhosts": [] }""", "destroyDelayMs: must be a whole number, was null (server.json, line 1)");
        yield return Case("watchPlugins a string", """{ "watchPlugins": "no", "vhosts": [] }""", """watchPlugins: must be true or false, was "no" (server.json, line 1)""");
        yield return Case("vhosts an object", """{ "vhosts": { "name": "v1" } }""", "vhosts: must be an array [ ... ], was an object (server.json, line 1)");
        yield return Case("admin port a string", """{ "admin": { "port": "x" }, "vhosts": [] }""", """admin.port: must be a whole number from 0 to 65535, was "x" (server.json, line 1)""");
        yield return Case("admin enabled 0", """{ "admin": { "enabled": 0 }, "vhosts": [] }""", "admin.enabled: must be true or false, was 0 (server.json, line 1)");
        yield return Case("unknown key", """{ "vhosts": [ { "name": "v1", "prot0cols": [] } ] }""", "vhost 'v1': prot0cols: is not a known key (check its spelling) (server.json, line 1)");
        yield return Case("unknown server key", """{ "vhost": [] }""", "vhost: is not a known key (check its spelling) (server.json, line 1)");

        // Not JSON at all.
        yield return Case("missing colon", "{\n \"vhosts\" [] }", "server.json, line 2: not valid JSON: '[' is invalid after a property name. Expected a ':'.");
        yield return Case("unclosed object", "{ \"vhosts\": [ ", "server.json, line 1: not valid JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed.");

        // Values of the right kind that the validator refuses (already plain words).
        yield return Case("port out of range", """{ "vhosts": [ { "name": "v1", "port": 70000 } ] }""", "server.json: vhost 'v1': port: must be between 0 and 65535, was 70000.");
        yield return Case("healthPath without slash", """{ "vhosts": [ { "name": "v1", "healthPath": "health" } ] }""", "server.json: vhost 'v1': healthPath: must start with '/' and not end with '/', was 'health'.");
        yield return Case("bad allow-list entry", """{ "vhosts": [ { "name": "v1", "observabilityAllowFrom": [ "10.0.0.0/99" ] } ] }""", "server.json: vhost 'v1': observabilityAllowFrom[0]: must be an IP address or a network such as 10.0.0.0/8, was '10.0.0.0/99'.");
        yield return Case("accessLogKeepFiles 0", """{ "vhosts": [ { "name": "v1", "accessLogKeepFiles": 0 } ] }""", "server.json: vhost 'v1': accessLogKeepFiles: must be at least 1, was 0.");
        yield return Case("keepAliveTimeoutMs negative", """{ "vhosts": [ { "name": "v1", "keepAliveTimeoutMs": -1 } ] }""", "server.json: vhost 'v1': keepAliveTimeoutMs: must not be negative (0 leaves idle connections to the server-wide handshakeTimeoutMs), was -1.");
        yield return Case("keepAliveTimeoutMs past handshakeTimeoutMs", """{ "handshakeTimeoutMs": 5000, "vhosts": [ { "name": "v1", "keepAliveTimeoutMs": 6000 } ] }""", "server.json: vhost 'v1': keepAliveTimeoutMs: 6000 is longer than the server's handshakeTimeoutMs (5000), which closes every idle connection first: lower it, or raise handshakeTimeoutMs.");
        yield return Case("keepAliveTimeoutMs a string", """{ "vhosts": [ { "name": "v1", "keepAliveTimeoutMs": "5s" } ] }""", """vhost 'v1': keepAliveTimeoutMs: must be a whole number, was "5s" (server.json, line 1)""");

        static TestCaseData Case(string name, string json, string message) => new TestCaseData(json, message).SetName("BadServerFile_" + name.Replace(' ', '_'));
    }

    private static IEnumerable<TestCaseData> VhostDocuments()
    {
        yield return Case("single vhost port string", """{ "name": "d1", "port": "abc" }""", """vhost 'd1': port: must be a whole number from 0 to 65535, was "abc" (d.json, line 1)""");
        yield return Case("array, second vhost", """[ { "name": "d1" }, { "name": "d2", "maxSessions": "many" } ]""", """vhost 'd2': maxSessions: must be a whole number, was "many" (d.json, line 1)""");
        yield return Case("duplicate key", "{ \"name\": \"d1\",\n \"port\": 1,\n \"port\": 2 }", "vhost 'd1': port: is given twice; each key may appear once (d.json, line 3)");
        yield return Case("mount without mountPoint", """{ "name": "d1", "mounts": [ { "origin": "/tmp" } ] }""", "vhost 'd1': mounts[0].mountPoint: is required (d.json, line 1)");

        static TestCaseData Case(string name, string json, string message) => new TestCaseData(json, message).SetName("BadVhostDocument_" + name.Replace(' ', '_'));
    }

    /// <summary>
    /// Protocol options, bound when the vhost is created (only the plugin knows their type): a server file whose vhost
    /// gives <c>protocols.sample</c> the options shown, over the manifest's defaults <see cref="SampleDefaults"/>.
    /// </summary>
    private static IEnumerable<TestCaseData> ProtocolOptions()
    {
        const string P = "vhost 'v1': protocols.sample";
        yield return Case("object for a whole number", """{ "count": { "n": 1 } }""", $"{P}.count: must be a whole number from -2147483648 to 2147483647, was an object (server.json, line 1)");
        yield return Case("null for a whole number", """{ "count": null }""", $"{P}.count: must be a whole number from -2147483648 to 2147483647, was null (this option cannot be null) (server.json, line 1)");
        yield return Case("string for a whole number", """{ "count": "five" }""", $"{P}.count: must be a whole number from -2147483648 to 2147483647, was \"five\" (server.json, line 1)");
        yield return Case("fraction for a whole number", """{ "count": 1.5 }""", $"{P}.count: must be a whole number from -2147483648 to 2147483647, was 1.5 (server.json, line 1)");
        yield return Case("port out of range", """{ "port": 70000 }""", $"{P}.port: must be a whole number from 0 to 65535, was 70000 (server.json, line 1)");
        yield return Case("unknown key", """{ "colour": "red" }""", $"{P}.colour: is not an option of this protocol (its options: count, port, enabled, label, nickname, mode, names, inner) (server.json, line 1)");
        yield return Case("unknown nested key", """{ "inner": { "limt": 2 } }""", $"{P}.inner.limt: is not an option of this protocol (its options: limit, label) (server.json, line 1)");
        yield return Case("wrong nested type", """{ "inner": { "limit": [ 2 ] } }""", $"{P}.inner.limit: must be a whole number from -2147483648 to 2147483647, was an array (server.json, line 1)");
        yield return Case("number for an object", """{ "inner": 5 }""", $"{P}.inner: must be an object {{ ... }}, was 5 (server.json, line 1)");
        yield return Case("string for a list", """{ "names": "a, b" }""", $"{P}.names: must be an array [ ... ], was \"a, b\" (server.json, line 1)");
        yield return Case("wrong list element", """{ "names": [ "a", { "b": 1 } ] }""", $"{P}.names[1]: must be a string in quotes, was an object (server.json, line 1)");
        yield return Case("string for true or false", """{ "enabled": "yes" }""", $"{P}.enabled: must be true or false, was \"yes\" (server.json, line 1)");
        yield return Case("null for a string", """{ "label": null }""", $"{P}.label: must be a string in quotes, was null (this option cannot be null) (server.json, line 1)");
        yield return Case("unknown enum name", """{ "mode": "fastest" }""", $"{P}.mode: must be one of \"slow\", \"fast\", was \"fastest\" (server.json, line 1)");
        yield return Case("on line 4", "{\n  \"count\": 1,\n  \"inner\": {\n    \"limit\": \"x\" } }", $"{P}.inner.limit: must be a whole number from -2147483648 to 2147483647, was \"x\" (server.json, line 4)");

        static TestCaseData Case(string name, string options, string message) => new TestCaseData(options, message).SetName("BadProtocolOptions_" + name.Replace(' ', '_'));
    }

    private const string SampleDefaults = """{ "names": [ "a", "b", "c" ], "inner": { "limit": 1, "label": "manifest" } }""";

    [TestCaseSource(nameof(ProtocolOptions))]
    public void BadProtocolOptions_AreRefusedWithTheirMessage(string options, string message)
    {
        var error = Assert.Throws<ProtocolOptionsException>(() => BindSample(options));
        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [Test]
    public void ProtocolOptions_AVhostListReplacesTheManifestsList_AndObjectsMergeByKey()
    {
        var options = BindSample("""{ "names": [ "z" ], "inner": { "limit": 5 }, "nickname": null }""");

        Assert.That(options.Names, Is.EqualTo(new[] { "z" }), "a vhost can shorten a default list");
        Assert.That(options.Inner.Limit, Is.EqualTo(5));
        Assert.That(options.Inner.Label, Is.EqualTo("manifest"));
        Assert.That(options.Nickname, Is.Null);
    }

    private static SampleOptions BindSample(string protocolOptions)
    {
        var file = $$"""{ "vhosts": [ { "name": "v1", "port": 0, "protocols": { "sample": {{protocolOptions}} } } ] }""";
        var selection = LwsServerConfigFile.Parse(file, "server.json").Vhosts.Single().Protocols!.Single();
        using var defaults = JsonDocument.Parse(SampleDefaults);
        var context = new ProtocolContext(
            "v1", "sample", "sample-plugin", defaults.RootElement.Clone(), selection.Options, NullLoggerFactory.Instance, TimeProvider.System,
            new Mock<IServerStatusSource>().Object, vhostOptionLines: selection.Lines);
        var options = new SampleOptions();
        context.BindOptions(options);
        return options;
    }

    [TestCaseSource(nameof(ServerFiles))]
    public void BadServerFile_IsRefusedWithItsMessage(string json, string message)
    {
        var error = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, "server.json"));
        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [TestCaseSource(nameof(VhostDocuments))]
    public void BadVhostDocument_IsRefusedWithItsMessage(string json, string message)
    {
        var error = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.ParseVhosts(json, "d.json"));
        Assert.That(error!.Message, Is.EqualTo(message));
    }

    private sealed class SampleOptions
    {
        public int Count { get; set; }

        public ushort Port { get; set; }

        public bool Enabled { get; set; }

        public string Label { get; set; } = "";

        public string? Nickname { get; set; } = "nick";

        public SampleMode Mode { get; set; }

        public IList<string> Names { get; set; } = [];

        public SampleInner Inner { get; set; } = new();
    }

    private sealed class SampleInner
    {
        public int Limit { get; set; }

        public string Label { get; set; } = "";
    }

    private enum SampleMode
    {
        Slow,
        Fast,
    }
}
