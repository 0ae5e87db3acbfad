using System.Net.WebSockets;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Testing;

namespace LwsPluginTemplate.Tests;

public sealed class LwsPluginTemplateHandlerTests
{
    [Test]
    public async Task TextMessage_IsEchoedWithThePrefix()
    {
        await using var harness = new ProtocolTestHarness(new LwsPluginTemplatePlugin(), new LwsPluginTemplateOptions { Prefix = "> " });
        var session = await harness.ConnectAsync();

        await harness.SendTextAsync(session, "hello");

        Assert.That(session.SentTexts, Is.EqualTo(new[] { "> hello" }));
    }

    [Test]
    public async Task BinaryMessage_IsEchoedUnchanged()
    {
        await using var harness = new ProtocolTestHarness(new LwsPluginTemplatePlugin());
        var session = await harness.ConnectAsync();

        await harness.SendBinaryAsync(session, new byte[] { 1, 2, 3 });

        Assert.That(session.Sent.Single().Type, Is.EqualTo(WebSocketMessageType.Binary));
        Assert.That(session.Sent.Single().Data.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public async Task EachSession_GetsOnlyItsOwnEchoes()
    {
        await using var harness = new ProtocolTestHarness(new LwsPluginTemplatePlugin());
        var first = await harness.ConnectAsync();
        var second = await harness.ConnectAsync();

        await harness.SendTextAsync(first, "one");
        await harness.SendTextAsync(second, "two");

        Assert.That(first.SentTexts, Is.EqualTo(new[] { "one" }));
        Assert.That(second.SentTexts, Is.EqualTo(new[] { "two" }));
    }

    [Test]
    public void TooLongPrefix_IsRefusedByValidation()
    {
        var options = new { Prefix = new string('x', LwsPluginTemplateOptions.MaxPrefixLength + 1) };

        var ex = Assert.Throws<ProtocolOptionsException>(() => _ = new ProtocolTestHarness(new LwsPluginTemplatePlugin(), options));

        Assert.That(ex!.Message, Does.Contain("prefix"));
    }
}
