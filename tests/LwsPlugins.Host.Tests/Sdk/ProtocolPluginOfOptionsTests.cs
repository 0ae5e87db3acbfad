using LwsPlugins.Sdk;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LwsPlugins.Host.Tests.Sdk;

[TestFixture]
public sealed class ProtocolPluginOfOptionsTests
{
    private readonly FakeTimeProvider _time = new();
    private ServiceProvider _services = null!;

    [SetUp]
    public void CreateServices()
        => _services = new ServiceCollection().AddSingleton<TimeProvider>(_time).BuildServiceProvider();

    [TearDown]
    public void DisposeServices() => _services.Dispose();

    [Test]
    public void CreateHandler_PassesTheBoundOptionsToTheHandlersConstructor()
    {
        TickOptions? bound = null;
        var context = Context(options =>
        {
            bound = options;
            options.IntervalMs = 50;
            options.Greeting = "from the vhost";
        });

        var handler = new TickPlugin().CreateHandler(context.Object);

        Assert.That(handler, Is.InstanceOf<TickHandler>());
        var tick = (TickHandler)handler;
        Assert.That(tick.Options, Is.SameAs(bound));
        Assert.That(tick.Options.IntervalMs, Is.EqualTo(50));
        Assert.That(tick.Options.Greeting, Is.EqualTo("from the vhost"));
        Assert.That(tick.Options.MaxItems, Is.EqualTo(10), "an option the binding did not touch keeps its default");
        context.Verify(c => c.BindOptions(It.IsAny<object>()), Times.Once());
    }

    [Test]
    public void CreateHandler_ResolvesOtherConstructorArgumentsFromTheContextsServices()
    {
        var handler = (TickHandler)new TickPlugin().CreateHandler(Context(_ => { }).Object);

        Assert.That(handler.Time, Is.SameAs(_time));
    }

    [Test]
    public void CreateHandler_ValidatesTheOptionsAfterBinding()
    {
        var plugin = new TickPlugin();

        // The default 1000 would pass; the bound 5 must be what Validate sees.
        var ex = Assert.Throws<ProtocolOptionsException>(() => plugin.CreateHandler(Context(o => o.IntervalMs = 5).Object));

        Assert.That(ex.Message, Does.Contain("was 5."));
        Assert.That(plugin.ValidateCalls, Is.EqualTo(1));
    }

    [Test]
    public void CreateHandler_ValidationFailure_NamesProtocolVhostAndFailure()
    {
        var context = Context(o => o.IntervalMs = 1, vhost: "example.org", protocol: "tick-protocol");

        var ex = Assert.Throws<ProtocolOptionsException>(() => new TickPlugin().CreateHandler(context.Object));

        Assert.That(ex.Message, Does.Contain("protocol 'tick-protocol'"));
        Assert.That(ex.Message, Does.Contain("vhost 'example.org'"));
        Assert.That(ex.Message, Does.Contain("intervalMs must be at least 10, was 1."));
    }

    [Test]
    public void CreateHandler_DefaultValidation_AcceptsAnyBoundValue()
    {
        var handler = (TickHandler)new DefaultValidationTickPlugin().CreateHandler(Context(o => o.IntervalMs = -1).Object);

        Assert.That(handler.Options.IntervalMs, Is.EqualTo(-1));
    }

    [Test]
    public void CreateHandler_BindingThrows_PropagatesWithoutCreatingAHandler()
    {
        var context = Context(_ => throw new ProtocolOptionsException("bad value"));
        var plugin = new TickPlugin();

        var ex = Assert.Throws<ProtocolOptionsException>(() => plugin.CreateHandler(context.Object));

        Assert.That(ex.Message, Is.EqualTo("bad value"));
        Assert.That(plugin.ValidateCalls, Is.Zero);
    }

    [Test]
    public void CreateHandler_NullContext_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new TickPlugin().CreateHandler(null!));
    }

    private Mock<IProtocolContext> Context(Action<TickOptions> bind, string vhost = "localhost", string protocol = "tick")
    {
        var context = new Mock<IProtocolContext>();
        context.SetupGet(c => c.VhostName).Returns(vhost);
        context.SetupGet(c => c.ProtocolName).Returns(protocol);
        context.SetupGet(c => c.PluginId).Returns("tick-plugin");
        context.SetupGet(c => c.Services).Returns(_services);
        context.Setup(c => c.BindOptions(It.IsAny<object>())).Callback((object options) => bind((TickOptions)options));
        return context;
    }
}
