using System.Net.WebSockets;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LwsPlugins.Host.Tests.Sdk;

[TestFixture]
public sealed class ProtocolTestHarnessTests
{
    [Test]
    public async Task Handler_IsCreatedThroughThePlugin_WithTheOptionsObjectsValues()
    {
        await using var harness = new ProtocolTestHarness(new TickPlugin(), new TickOptions { IntervalMs = 50, Greeting = "hi" });

        var handler = (TickHandler)harness.Handler;

        Assert.That(handler.Options.IntervalMs, Is.EqualTo(50));
        Assert.That(handler.Options.Greeting, Is.EqualTo("hi"));
    }

    [Test]
    public async Task Options_FromAnAnonymousObjectOrDictionary_AreMatchedByNameCaseInsensitively()
    {
        await using var fromObject = new ProtocolTestHarness(new TickPlugin(), new { intervalMs = 20 });
        await using var fromDictionary = new ProtocolTestHarness(new TickPlugin(), new Dictionary<string, object?> { ["GREETING"] = "yo", ["maxItems"] = "7" });

        Assert.That(((TickHandler)fromObject.Handler).Options.IntervalMs, Is.EqualTo(20));
        Assert.That(((TickHandler)fromObject.Handler).Options.Greeting, Is.EqualTo("hello"));
        Assert.That(((TickHandler)fromDictionary.Handler).Options.Greeting, Is.EqualTo("yo"));
        Assert.That(((TickHandler)fromDictionary.Handler).Options.MaxItems, Is.EqualTo(7));
    }

    [Test]
    public void Options_ThePluginRejects_ThrowTheValidationMessage()
    {
        var ex = Assert.Throws<ProtocolOptionsException>(() => _ = new ProtocolTestHarness(new TickPlugin(), new { IntervalMs = 1 }));

        Assert.That(ex!.Message, Does.Contain("intervalMs must be at least 10, was 1"));
    }

    [Test]
    public void Options_WithAnUnknownName_ThrowNamingIt()
    {
        var ex = Assert.Throws<ProtocolOptionsException>(() => _ = new ProtocolTestHarness(new TickPlugin(), new { Colour = "red" }));

        Assert.That(ex!.Message, Does.Contain("'Colour'"));
    }

    [Test]
    public void Options_ThatDoNotConvert_ThrowNamingTheProperty()
    {
        var ex = Assert.Throws<ProtocolOptionsException>(
            () => _ = new ProtocolTestHarness(new TickPlugin(), new Dictionary<string, object?> { ["intervalMs"] = "soon" }));

        Assert.That(ex!.Message, Does.Contain("'intervalMs'"));
    }

    [Test]
    public async Task Handler_GetsTheSettingsNamesClockAndLogger()
    {
        var time = new FakeTimeProvider();
        var logger = new Mock<ILogger>().Object;
        var loggers = new Mock<ILoggerFactory>();
        loggers.Setup(f => f.CreateLogger("LwsPlugins.Plugins.chat")).Returns(logger);
        var settings = new ProtocolTestHarnessSettings
        {
            VhostName = "example", ProtocolName = "chat-protocol", PluginId = "chat", TimeProvider = time, LoggerFactory = loggers.Object,
        };

        await using var harness = new ProtocolTestHarness(new RecordingPlugin(), null, settings);
        var handler = (RecordingHandler)harness.Handler;
        var session = await harness.ConnectAsync();

        Assert.That(handler.Context.VhostName, Is.EqualTo("example"));
        Assert.That(handler.Context.ProtocolName, Is.EqualTo("chat-protocol"));
        Assert.That(handler.Context.PluginId, Is.EqualTo("chat"));
        Assert.That(handler.Time, Is.SameAs(time));
        Assert.That(handler.Logger, Is.SameAs(logger));
        Assert.That(session.Protocol, Is.EqualTo("chat-protocol"));
        Assert.That(session.VhostName, Is.EqualTo("example"));
        Assert.That(session.ConnectedAt, Is.EqualTo(time.GetUtcNow()));
    }

    [Test]
    public async Task Connect_Message_Disconnect_DriveTheHandlerInOrder_AndRecordWhatItSends()
    {
        await using var harness = new ProtocolTestHarness(new RecordingPlugin());
        var handler = (RecordingHandler)harness.Handler;

        var session = await harness.ConnectAsync();
        await harness.SendTextAsync(session, "hello");
        await harness.DisconnectAsync(session);

        Assert.That(handler.Calls, Is.EqualTo(new[] { "opened test-1", "message test-1 hello", "closed test-1 ended=True" }));
        Assert.That(session.SentTexts, Is.EqualTo(new[] { "hello" }));
        Assert.That(session.Sent.Single().Type, Is.EqualTo(WebSocketMessageType.Text));
        Assert.That(session.IsEnded, Is.True);
        Assert.That(session.CloseStatus, Is.Null);
        Assert.That(session.TrySendText("after"), Is.False);
    }

    [Test]
    public async Task HandlerClosingASession_RecordsCodeAndReason_RefusesLaterSends_AndEndsItOnce()
    {
        await using var harness = new ProtocolTestHarness(new RecordingPlugin());
        var handler = (RecordingHandler)harness.Handler;
        var session = await harness.ConnectAsync();

        await harness.SendTextAsync(session, "close");
        await harness.DisconnectAsync(session);

        Assert.That(session.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(session.CloseReason, Is.EqualTo("bye"));
        Assert.That(session.IsEnded, Is.True);
        Assert.That(session.Ended.IsCancellationRequested, Is.True);
        Assert.That(handler.Calls, Is.EqualTo(new[] { "opened test-1", "message test-1 close", "sent-after-close False", "closed test-1 ended=True" }));
        Assert.That(() => harness.SendTextAsync(session, "more"), Throws.InvalidOperationException);
    }

    [Test]
    public async Task HandlerThrowing_ClosesOnlyThatSessionWith1011_AndTheExceptionReachesTheTest()
    {
        await using var harness = new ProtocolTestHarness(new RecordingPlugin());
        var failing = await harness.ConnectAsync();
        var other = await harness.ConnectAsync();

        Assert.That(() => harness.SendTextAsync(failing, "throw"), Throws.InvalidOperationException.With.Message.EqualTo("boom"));
        await harness.SendTextAsync(other, "still here");

        Assert.That(failing.CloseStatus, Is.EqualTo(WebSocketCloseStatus.InternalServerError));
        Assert.That(failing.IsEnded, Is.True);
        Assert.That(other.SentTexts, Is.EqualTo(new[] { "still here" }));
    }

    [Test]
    public async Task Dispose_EndsOpenSessions_ThenDisposesTheHandler()
    {
        var harness = new ProtocolTestHarness(new RecordingPlugin());
        var handler = (RecordingHandler)harness.Handler;
        var first = await harness.ConnectAsync();
        var second = await harness.ConnectAsync();
        await harness.DisconnectAsync(first);

        await harness.DisposeAsync();

        Assert.That(handler.Calls, Is.EqualTo(new[] { "opened test-1", "opened test-2", "closed test-1 ended=True", "closed test-2 ended=True", "disposed" }));
        Assert.That(second.IsEnded, Is.True);
        Assert.That(harness.Sessions, Is.EqualTo(new[] { first, second }));
    }

    [Test]
    public async Task Sessions_CarryPathQueryAndHeaders()
    {
        await using var harness = new ProtocolTestHarness(new RecordingPlugin());

        var session = await harness.ConnectAsync("/chat", "mirror=my%20room&empty=", new Dictionary<string, string> { ["User-Agent"] = "tests" });

        Assert.That(session.Path, Is.EqualTo("/chat"));
        Assert.That(session.QueryString, Is.EqualTo("?mirror=my%20room&empty="));
        Assert.That(session.GetQueryParameter("mirror"), Is.EqualTo("my room"));
        Assert.That(session.GetQueryParameter("empty"), Is.EqualTo(""));
        Assert.That(session.GetQueryParameter("absent"), Is.Null);
        Assert.That(session.UserAgent, Is.EqualTo("tests"));
        Assert.That(session.GetHeader("user-agent"), Is.EqualTo("tests"));
    }

    [Test]
    public async Task SessionGroup_FansOutToTestSessions()
    {
        await using var harness = new ProtocolTestHarness(new RecordingPlugin());
        var group = new SessionGroup();
        var first = await harness.ConnectAsync();
        var second = await harness.ConnectAsync();
        group.Add(first);
        group.Add(second);

        var accepted = group.Broadcast(WebSocketMessageType.Binary, new byte[] { 7 });

        Assert.That(accepted, Is.EqualTo(2));
        Assert.That(first.Sent.Single().Data.ToArray(), Is.EqualTo(new byte[] { 7 }));
        Assert.That(second.Sent.Single().Data.ToArray(), Is.EqualTo(new byte[] { 7 }));
        first.ClearSent();
        Assert.That(first.Sent, Is.Empty);
    }

    [Test]
    public async Task SessionOfAnotherHarness_IsRefused()
    {
        await using var one = new ProtocolTestHarness(new RecordingPlugin());
        await using var other = new ProtocolTestHarness(new RecordingPlugin());
        var session = await one.ConnectAsync();

        Assert.That(() => other.SendTextAsync(session, "x"), Throws.ArgumentException);
    }
}
