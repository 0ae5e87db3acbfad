using LwsPlugins.Host.Listeners;
using Microsoft.Extensions.Logging;
using Moq;

namespace LwsPlugins.Host.Tests.Listeners;

/// <summary>
/// What a listener's Kestrel logs through: the engine's loggers, minus what would live as long as a WebSocket session
/// (hosting's per-request diagnostics, Kestrel's per-connection scope).
/// </summary>
[TestFixture]
public sealed class ListenerLoggerFactoryTests
{
    [Test]
    public void Scopes_AreNotOpened_OnTheEngineLoggers()
    {
        var inner = new Mock<ILogger>(MockBehavior.Strict);
        using var factory = new ListenerLoggerFactory(FactoryOf("Microsoft.AspNetCore.Server.Kestrel", inner.Object));

        var scope = factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").BeginScope("ConnectionId:0HN1");

        Assert.That(scope, Is.Null);
        inner.VerifyNoOtherCalls();
    }

    [Test]
    public void Messages_AndLevels_ReachTheEngineLoggers()
    {
        var inner = new Mock<ILogger>();
        inner.Setup(l => l.IsEnabled(LogLevel.Warning)).Returns(true);
        using var factory = new ListenerLoggerFactory(FactoryOf("Microsoft.AspNetCore.Server.Kestrel.BadRequests", inner.Object));
        var logger = factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.BadRequests");

        var enabled = logger.IsEnabled(LogLevel.Warning);
        logger.Log(LogLevel.Warning, new EventId(17, "BadRequest"), "Connection id 0HN1 bad request", null, static (state, _) => state);

        Assert.That(enabled, Is.True);
        inner.Verify(
            l => l.Log(LogLevel.Warning, new EventId(17, "BadRequest"), It.IsAny<It.IsAnyType>(), null, It.IsAny<Func<It.IsAnyType, Exception?, string>>()),
            Times.Once);
    }

    [TestCase("Microsoft.AspNetCore.Hosting.Diagnostics")]
    [TestCase("Microsoft.Hosting.Lifetime")]
    public void HostingDiagnosticsAndTheSharedServersLifetime_AreOff(string category)
    {
        var inner = new Mock<ILogger>(MockBehavior.Strict);
        using var factory = new ListenerLoggerFactory(FactoryOf(category, inner.Object));

        var logger = factory.CreateLogger(category);

        Assert.That(Enum.GetValues<LogLevel>().Any(logger.IsEnabled), Is.False);
        inner.VerifyNoOtherCalls();
    }

    private static ILoggerFactory FactoryOf(string category, ILogger logger)
    {
        var factory = new Mock<ILoggerFactory>();
        factory.Setup(f => f.CreateLogger(category)).Returns(logger);
        return factory.Object;
    }
}
