using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Tests.Configuration;

[TestFixture]
public sealed class BackplaneOptionsValidatorTests
{
    [Test]
    public void Defaults_AreValid_AndInProcess()
    {
        var options = new BackplaneOptions();

        Assert.That(BackplaneOptionsValidator.Validate(options), Is.Empty);
        Assert.That(options.Redis, Is.Null);
        Assert.That(options.OnStartFailure, Is.EqualTo(BackplaneStartFailure.LocalOnly));
    }

    [Test]
    public void BadValues_AreEachNamedByKey()
    {
        var errors = BackplaneOptionsValidator.Validate(new BackplaneOptions
        {
            Redis = "127.0.0.1:6379,nonsense=1",
            ChannelPrefix = null!,
            ConnectTimeoutMs = 10,
            PublishQueueLimit = 0,
            OnStartFailure = (BackplaneStartFailure)7,
            OutboxMaxMessages = 0,
            OutboxMaxBytes = 10,
            OutboxMaxAgeMs = 5,
            StreamMaxLength = 3,
        });

        Assert.That(errors, Has.Some.StartsWith("backplane.redis:"));
        Assert.That(errors, Has.Some.StartsWith("backplane.channelPrefix:"));
        Assert.That(errors, Has.Some.StartsWith("backplane.connectTimeoutMs:"));
        Assert.That(errors, Has.Some.StartsWith("backplane.publishQueueLimit:"));
        Assert.That(errors, Has.Some.StartsWith("backplane.onStartFailure:"));
        Assert.That(errors, Has.Some.EqualTo("backplane.outboxMaxMessages: must be at least 1, was 0."));
        Assert.That(errors, Has.Some.EqualTo("backplane.outboxMaxBytes: must be at least 1024, was 10."));
        Assert.That(errors, Has.Some.EqualTo("backplane.outboxMaxAgeMs: must be at least 100, was 5."));
        Assert.That(errors, Has.Some.EqualTo("backplane.streamMaxLength: must be at least 100, was 3."));
    }

    [Test]
    public void ConnectionStringWithoutEndpoint_IsRefused_WithoutShowingThePassword()
    {
        var errors = BackplaneOptionsValidator.Validate(new BackplaneOptions { Redis = "password=secret-one" });

        Assert.That(errors, Has.One.StartsWith("backplane.redis: names no endpoint"));
        Assert.That(string.Join(" ", errors), Does.Not.Contain("secret-one"));
    }

    [Test]
    public void ConfigFile_ReadsTheBackplane_AndRejectsABadOneNamingTheFile()
    {
        var options = LwsServerConfigFile.Parse(
            """{ "backplane": { "redis": "127.0.0.1:6380", "channelPrefix": "app1/", "onStartFailure": "localOnly" }, "vhosts": [] }""", "server.json");

        Assert.That(options.Backplane.Redis, Is.EqualTo("127.0.0.1:6380"));
        Assert.That(options.Backplane.ChannelPrefix, Is.EqualTo("app1/"));
        Assert.That(options.Backplane.OnStartFailure, Is.EqualTo(BackplaneStartFailure.LocalOnly));
        Assert.That(
            () => LwsServerConfigFile.Parse("""{ "backplane": { "publishQueueLimit": -1 }, "vhosts": [] }""", "server.json"),
            Throws.TypeOf<LwsConfigurationException>().With.Message.Contains("server.json").And.Message.Contains("backplane.publishQueueLimit"));
    }
}
