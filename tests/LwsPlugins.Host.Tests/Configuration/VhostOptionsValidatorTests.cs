using System.Text.Json;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Tests.Configuration;

[TestFixture]
public sealed class VhostOptionsValidatorTests
{
    private static IEnumerable<TestCaseData> InvalidKeys()
    {
        yield return Case("empty name", v => v.Name = "", "(unnamed)", "name");
        yield return Case("whitespace name", v => v.Name = "   ", "   ", "name");
        yield return Case("name with a space", v => v.Name = "bad name", "bad name", "name");
        yield return Case("name with a slash", v => v.Name = "bad/name", "bad/name", "name");
        yield return Case("name ending in a dot", v => v.Name = "example.", "example.", "name");
        yield return Case("empty address", v => v.Address = "", "example", "address");
        yield return Case("port -1", v => v.Port = -1, "example", "port");
        yield return Case("port 65536", v => v.Port = 65536, "example", "port");
        yield return Case("protocol name with a space", v => v.Protocols!.Add(new ProtocolSelection("a b")), "example", "protocols[2]");
        yield return Case("empty protocol name", v => v.Protocols!.Add(new ProtocolSelection("")), "example", "protocols[2]");
        yield return Case("duplicate protocol", v => v.Protocols!.Add(new ProtocolSelection("lws-minimal")), "example", "protocols.lws-minimal");
        yield return Case("mount point without '/'", v => v.Mounts[0].MountPoint = "docs", "example", "mounts[0].mountPoint");
        yield return Case("empty mount point", v => v.Mounts[0].MountPoint = "", "example", "mounts[0].mountPoint");
        yield return Case("empty origin", v => v.Mounts[0].Origin = "", "example", "mounts[0].origin");
        yield return Case("file:// without a path", v => v.Mounts[0].Origin = "file://", "example", "mounts[0].origin");
        yield return Case("redirect with an origin", v => v.Mounts[0].Redirect = "https://example.com/", "example", "mounts[0].origin");
        yield return Case("redirect not a URL", v => (v.Mounts[0].Origin, v.Mounts[0].Redirect) = ("", "not a url"), "example", "mounts[0].redirect");
        yield return Case("redirect status 307", v => (v.Mounts[0].Origin, v.Mounts[0].Redirect, v.Mounts[0].RedirectStatus) = ("", "/elsewhere/", 307), "example", "mounts[0].redirectStatus");
        yield return Case("empty cache policy", v => v.Mounts[0].CacheControl = " ", "example", "mounts[0].cacheControl");
        yield return Case("cache policy with a line break", v => v.Mounts[0].CacheControl = "max-age=1\r\nX-Evil: 1", "example", "mounts[0].cacheControl");
        yield return Case("MIME extension without a dot", v => v.Mounts[0].MimeTypes["wasm"] = "application/wasm", "example", "mounts[0].mimeTypes.wasm");
        yield return Case("MIME type without a slash", v => v.Mounts[0].MimeTypes[".wasm"] = "wasm", "example", "mounts[0].mimeTypes..wasm");
        yield return Case("maxMessageSize 0", v => v.MaxMessageSize = 0, "example", "maxMessageSize");
        yield return Case("sendQueueLimit 0", v => v.SendQueueLimit = 0, "example", "sendQueueLimit");
        yield return Case("closeTimeoutMs 0", v => v.CloseTimeoutMs = 0, "example", "closeTimeoutMs");
        yield return Case("pingIntervalMs -1", v => v.PingIntervalMs = -1, "example", "pingIntervalMs");
        yield return Case("stallTimeoutMs -1", v => v.StallTimeoutMs = -1, "example", "stallTimeoutMs");
        yield return Case("undefined slow-consumer policy", v => v.SlowConsumerPolicy = (SlowConsumerPolicy)42, "example", "slowConsumerPolicy");

        yield return Case("bindInterface with an IP address", v => v.BindInterface = true, "example", "bindInterface");
        yield return Case("empty unixSocket", v => v.UnixSocket = " ", "example", "unixSocket");
        yield return Case("unixSocket longer than sun_path", v => v.UnixSocket = "/tmp/" + new string('s', 120), "example", "unixSocket");
        yield return Case("unixSocketMode not octal", v => (v.UnixSocket, v.UnixSocketMode) = ("/tmp/a.sock", "0689"), "example", "unixSocketMode");
        yield return Case("unixSocketMode above 0777", v => (v.UnixSocket, v.UnixSocketMode) = ("/tmp/a.sock", "1777"), "example", "unixSocketMode");
        yield return Case("unixSocketMode without unixSocket", v => v.UnixSocketMode = "0660", "example", "unixSocketMode");
        yield return Case("unixSocketOwner with two colons", v => (v.UnixSocket, v.UnixSocketOwner) = ("/tmp/a.sock", "a:b:c"), "example", "unixSocketOwner");
        yield return Case("bindInterface on a Unix socket", v => (v.UnixSocket, v.Address, v.BindInterface) = ("/tmp/a.sock", "lo", true), "example", "bindInterface");
        yield return Case("tls without a certificate", v => v.Tls = new VhostTlsOptions { Key = "key.pem" }, "example", "tls.certificate");
        yield return Case("tls without a key", v => v.Tls = new VhostTlsOptions { Certificate = "cert.pem" }, "example", "tls.key");
        yield return Case("tls CA without client certificates", v => v.Tls = new VhostTlsOptions { Certificate = "c.pem", Key = "k.pem", Ca = "ca.pem" }, "example", "tls.ca");
        yield return Case("tls redirect port 70000", v => v.Tls = new VhostTlsOptions { Certificate = "c.pem", Key = "k.pem", RedirectHttpPort = 70000 }, "example", "tls.redirectHttpPort");
        yield return Case("undefined client-certificate mode", v => v.Tls = new VhostTlsOptions { Certificate = "c.pem", Key = "k.pem", ClientCertificate = (TlsClientCertificateMode)9 }, "example", "tls.clientCertificate");

        static TestCaseData Case(string name, Action<VhostOptions> breakIt, string vhostName, string key)
            => new TestCaseData(breakIt, vhostName, key).SetArgDisplayNames(name);
    }

    [Test]
    public void Validate_NamedVhostWithDefaults_GivesNoErrors()
    {
        var errors = VhostOptionsValidator.Validate(new VhostOptions { Name = "localhost" });

        Assert.That(errors, Is.Empty);
    }

    [Test]
    public void Validate_FullyPopulatedValidVhost_GivesNoErrors()
    {
        Assert.That(VhostOptionsValidator.Validate(Valid()), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(65535)]
    public void Validate_PortAtTheBoundary_IsAccepted(int port)
    {
        var vhost = Valid();
        vhost.Port = port;

        Assert.That(VhostOptionsValidator.Validate(vhost), Is.Empty);
    }

    [Test]
    public void Validate_PingIntervalZero_TurnsPingsOffWithoutError()
    {
        var vhost = Valid();
        vhost.PingIntervalMs = 0;

        Assert.That(VhostOptionsValidator.Validate(vhost), Is.Empty);
    }

    [TestCaseSource(nameof(InvalidKeys))]
    public void Validate_InvalidKey_GivesOneErrorNamingVhostAndKey(Action<VhostOptions> breakIt, string vhostName, string key)
    {
        var vhost = Valid();
        breakIt(vhost);

        var errors = VhostOptionsValidator.Validate(vhost);

        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"vhost '{vhostName}': {key}: "));
    }

    [Test]
    public void Validate_SeveralInvalidKeys_ReportsEachOfThem()
    {
        var vhost = Valid();
        vhost.Port = 70000;
        vhost.MaxMessageSize = -5;
        vhost.Address = " ";

        var errors = VhostOptionsValidator.Validate(vhost);

        Assert.That(errors, Has.Count.EqualTo(3));
        Assert.That(errors, Has.Some.StartsWith("vhost 'example': port: ").And.Contains("70000"));
        Assert.That(errors, Has.Some.StartsWith("vhost 'example': maxMessageSize: ").And.Contains("-5"));
        Assert.That(errors, Has.Some.StartsWith("vhost 'example': address: "));
    }

    [Test]
    public void Validate_ProtocolNamesDifferingOnlyInCase_AreNotDuplicates()
    {
        var vhost = Valid();
        vhost.Protocols!.Add(new ProtocolSelection("LWS-MINIMAL"));

        Assert.That(VhostOptionsValidator.Validate(vhost), Is.Empty);
    }

    [Test]
    public void Validate_NoProtocolsList_ServesEveryPlugin_AndMayMountAnyCallbackProtocol()
    {
        var vhost = Valid();
        vhost.Protocols = null;
        vhost.Mounts.Add(new MountOptions { MountPoint = "/api", Origin = "callback://arrives-later" });

        Assert.That(VhostOptionsValidator.Validate(vhost), Is.Empty);
        Assert.That(vhost.ServesAllPlugins, Is.True);
    }

    [Test]
    public void Validate_AListWithTheWildcard_ServesEveryPluginBesideTheListedOnes()
    {
        var vhost = Valid();
        vhost.Protocols!.Add(new ProtocolSelection(ProtocolSelection.AllPlugins, JsonDocument.Parse("{}").RootElement));

        Assert.That(VhostOptionsValidator.Validate(vhost), Is.Empty);
        Assert.That(vhost.ServesAllPlugins, Is.True);
        Assert.That(Valid().ServesAllPlugins, Is.False, "a list without \"*\" serves exactly that list");
    }

    [Test]
    public void Validate_WildcardWithOptions_IsRefusedNamingTheKey()
    {
        var vhost = Valid();
        vhost.Protocols!.Add(new ProtocolSelection(ProtocolSelection.AllPlugins, JsonDocument.Parse("""{ "intervalMs": 5 }""").RootElement));

        Assert.That(VhostOptionsValidator.Validate(vhost), Has.One.Contains("vhost 'example': protocols.*: takes no options"));
    }

    [Test]
    public void Validate_CallbackMountOfAnUnlistedProtocol_IsRefusedWhenTheVhostListsItsProtocols()
    {
        var vhost = Valid();
        vhost.Mounts.Add(new MountOptions { MountPoint = "/api", Origin = "callback://not-listed" });

        Assert.That(VhostOptionsValidator.Validate(vhost), Has.One.Contains("mounts[1].origin"));
    }

    private static VhostOptions Valid() => new()
    {
        Name = "example",
        Address = "127.0.0.1",
        Port = 7681,
        Protocols = [new ProtocolSelection("lws-minimal"), new ProtocolSelection("dumb-increment-protocol")],
        Mounts = [new MountOptions { MountPoint = "/", Origin = "www" }],
    };
}
