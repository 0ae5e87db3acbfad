using System.Text.Json;
using LwsPlugins.Host.Tests.Sdk;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LwsPlugins.Host.Tests.Vhosts;

[TestFixture]
public sealed class ProtocolContextTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly Mock<IServerStatusSource> _status = new(MockBehavior.Strict);

    [Test]
    public void Constructor_ExposesTheNames()
    {
        var context = Create(null, null);

        Assert.That(context.VhostName, Is.EqualTo("example"));
        Assert.That(context.ProtocolName, Is.EqualTo("tick"));
        Assert.That(context.PluginId, Is.EqualTo("tick-plugin"));
    }

    [Test]
    public void BindOptions_VhostOptionsOverrideDefaultsKeyByKey()
    {
        var context = Create(
            """{ "intervalMs": 100, "greeting": "default", "maxItems": 5 }""",
            """{ "intervalMs": 50, "greeting": "vhost" }""");
        var options = new TickOptions();

        context.BindOptions(options);

        Assert.That(options.IntervalMs, Is.EqualTo(50));
        Assert.That(options.Greeting, Is.EqualTo("vhost"));
        Assert.That(options.MaxItems, Is.EqualTo(5), "a key only the manifest sets keeps the manifest's value");
    }

    [Test]
    public void BindOptions_PropertyNamesMatchCaseInsensitively()
    {
        var context = Create(
            """{ "intervalMs": 100, "Greeting": "default" }""",
            """{ "INTERVALMS": 75, "greeting": "vhost" }""");
        var options = new TickOptions();

        context.BindOptions(options);

        Assert.That(options.IntervalMs, Is.EqualTo(75));
        Assert.That(options.Greeting, Is.EqualTo("vhost"));
    }

    [Test]
    public void BindOptions_OnlyDefaults_AppliesThem()
    {
        var context = Create("""{ "intervalMs": 100, "tags": ["a", "b"] }""", null);
        var options = new TickOptions();

        context.BindOptions(options);

        Assert.That(options.IntervalMs, Is.EqualTo(100));
        Assert.That(options.Tags, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(options.Greeting, Is.EqualTo("hello"), "an unset key keeps the class's default");
    }

    [Test]
    public void BindOptions_OnlyVhostOptions_AppliesThem()
    {
        var context = Create(null, """{ "maxItems": 3 }""");
        var options = new TickOptions();

        context.BindOptions(options);

        Assert.That(options.MaxItems, Is.EqualTo(3));
        Assert.That(options.IntervalMs, Is.EqualTo(1000));
    }

    [Test]
    public void BindOptions_NoOptionsAtAll_LeavesTheObjectsDefaults()
    {
        var options = new TickOptions();

        Create(null, null).BindOptions(options);

        Assert.That(options.IntervalMs, Is.EqualTo(1000));
        Assert.That(options.Greeting, Is.EqualTo("hello"));
        Assert.That(options.MaxItems, Is.EqualTo(10));
    }

    [Test]
    public void BindOptions_ValueOfTheWrongType_ThrowsNamingProtocolVhostAndKey()
    {
        var context = Create("""{ "intervalMs": 100 }""", """{ "intervalMs": "abc" }""");

        var ex = Assert.Throws<ProtocolOptionsException>(() => context.BindOptions(new TickOptions()));

        Assert.That(ex.Message, Is.EqualTo("vhost 'example': protocols.tick.intervalMs: must be a whole number from -2147483648 to 2147483647, was \"abc\"."));
    }

    [Test]
    public void BindOptions_KeysDifferingOnlyInCase_ThrowNamingProtocolAndVhost()
    {
        var context = Create(null, """{ "intervalMs": 1, "IntervalMs": 2 }""");

        var ex = Assert.Throws<ProtocolOptionsException>(() => context.BindOptions(new TickOptions()));

        Assert.That(ex.Message, Is.EqualTo("vhost 'example': protocols.tick.IntervalMs: is given twice (keys differ only in case); each key may appear once."));
    }

    [Test]
    public void BindOptions_WrongTypeInTheManifestDefaults_Throws()
    {
        var context = Create("""{ "maxItems": "many" }""", null);

        var ex = Assert.Throws<ProtocolOptionsException>(() => context.BindOptions(new TickOptions()));

        Assert.That(ex.Message, Is.EqualTo("the manifest of plugin 'tick-plugin': protocols.tick.options.maxItems: must be a whole number from -2147483648 to 2147483647, was \"many\"."));
    }

    [Test]
    public void BindOptions_UnknownKey_ThrowsNamingProtocolVhostAndKey()
    {
        var context = Create("""{ "intervalMs": 100 }""", """{ "intervalMz": 50 }""");

        var ex = Assert.Throws<ProtocolOptionsException>(() => context.BindOptions(new TickOptions()));

        Assert.That(ex.Message, Is.EqualTo("vhost 'example': protocols.tick.intervalMz: is not an option of this protocol (its options: intervalMs, greeting, maxItems, tags)."));
    }

    [Test]
    public void BindOptions_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Create(null, null).BindOptions(null!));
    }

    [Test]
    public void GetService_OffersTheHostServicesAndItself()
    {
        var loggerFactory = NullLoggerFactory.Instance;
        var context = Create(null, null, loggerFactory);

        Assert.That(context.Services, Is.SameAs(context));
        Assert.That(context.GetService(typeof(TimeProvider)), Is.SameAs(_time));
        Assert.That(context.GetService(typeof(ILoggerFactory)), Is.SameAs(loggerFactory));
        Assert.That(context.GetService(typeof(IServerStatusSource)), Is.SameAs(_status.Object));
        Assert.That(context.GetService(typeof(IProtocolContext)), Is.SameAs(context));
        Assert.That(context.GetService(typeof(IServiceProvider)), Is.SameAs(context));
    }

    [TestCase(typeof(string))]
    [TestCase(typeof(FakeTimeProvider))]
    [TestCase(typeof(ILogger<ProtocolContextTests>))]
    [TestCase(typeof(ProtocolContext))]
    [TestCase(typeof(IWebSocketSession))]
    public void GetService_AnythingElse_IsNull(Type serviceType)
    {
        Assert.That(Create(null, null).GetService(serviceType), Is.Null);
    }

    [Test]
    public void GetService_ILogger_IsCreatedInThePluginsCategory()
    {
        var logger = new Mock<ILogger>().Object;
        var factory = new Mock<ILoggerFactory>(MockBehavior.Strict);
        factory.Setup(f => f.CreateLogger("LwsPlugins.Plugins.tick-plugin")).Returns(logger);

        var service = Create(null, null, factory.Object).GetService(typeof(ILogger));

        Assert.That(service, Is.SameAs(logger));
        factory.Verify(f => f.CreateLogger("LwsPlugins.Plugins.tick-plugin"), Times.Once());
    }

    private ProtocolContext Create(string? defaults, string? vhost, ILoggerFactory? loggerFactory = null)
        => new(
            "example",
            "tick",
            "tick-plugin",
            Parse(defaults),
            Parse(vhost),
            loggerFactory ?? NullLoggerFactory.Instance,
            _time,
            _status.Object);

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
