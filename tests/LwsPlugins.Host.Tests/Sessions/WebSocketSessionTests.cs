using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LwsPlugins.Host.Tests.Sessions;

/// <summary>
/// One session on its own: a real server-side WebSocket over an in-memory duplex stream, the client's WebSocket on the
/// other end, a vhost without a listener, and a handler written here. What the session owns is tested, not Kestrel.
/// </summary>
[TestFixture]
public sealed class WebSocketSessionTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);
    private LwsMetrics _metrics = null!;
    private PluginFolder _folder = null!;
    private PluginCatalog _catalog = null!;
    private ProtocolExport _export = null!;

    [SetUp]
    public void Create()
    {
        _metrics = new LwsMetrics(null);
        _folder = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        _catalog = new PluginCatalog(_folder.Path, new FakeTimeProvider(), NullLoggerFactory.Instance);
        _catalog.LoadAll();
        Assert.That(_catalog.TryGetProtocol("dumb-increment-protocol", out _export!), Is.True);
    }

    [TearDown]
    public async Task Dispose()
    {
        await _catalog.DisposeAsync();
        _folder.Dispose();
        _metrics.Dispose();
    }

    private sealed class Running(Vhost vhost, WebSocket client, Task session) : IAsyncDisposable
    {
        public Vhost Vhost => vhost;

        public WebSocket Client => client;

        public Task Session => session;

        public async Task<string> ReceiveTextAsync()
        {
            var buffer = new byte[64 * 1024];
            var result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Within);
            Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Text), $"a message, not a close ({client.CloseStatus} {client.CloseStatusDescription})");
            return Encoding.UTF8.GetString(buffer, 0, result.Count);
        }

        public async Task<(WebSocketCloseStatus? Status, string? Reason)> ReceiveCloseAsync()
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Within);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (result.CloseStatus, result.CloseStatusDescription);
                }
            }
        }

        public Task SendTextAsync(string text, bool endOfMessage = true)
            => client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage, CancellationToken.None);

        public async ValueTask DisposeAsync()
        {
            client.Abort();
            await session.WaitAsync(Within);
            await vhost.DisposeAsync();
        }
    }

    private Running Start(IProtocolHandler handler, VhostOptions? options = null)
    {
        options ??= new VhostOptions { Name = "v", Port = 0 };
        var vhost = new Vhost(options, IPAddress.Loopback, [], null, TimeProvider.System, NullLoggerFactory.Instance, _metrics, () => { });
        var (serverStream, clientStream) = DuplexStream.CreatePair();
        var server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        var client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        var protocol = new VhostProtocol("dumb-increment-protocol", null, new ProtocolInstance(_export, handler, new ProtocolInstanceCounter()), null);
        var request = new Mock<IUpgradeRequest>();
        request.SetupGet(r => r.RemoteAddress).Returns(IPAddress.Parse("127.0.0.9"));
        request.SetupGet(r => r.Path).Returns("/");
        request.SetupGet(r => r.QueryString).Returns("?mirror=a");
        request.SetupGet(r => r.RawTarget).Returns("/?mirror=a");
        request.SetupGet(r => r.Protocol).Returns("HTTP/1.1");
        request.SetupGet(r => r.UserAgent).Returns("unit test");
        request.SetupGet(r => r.RequestedProtocols).Returns(["dumb-increment-protocol"]);
        request.Setup(r => r.FlushAsync()).Returns(ValueTask.CompletedTask);
        var session = new WebSocketSession(server, request.Object, vhost, protocol, protocol.Current!, admission: null, NullLogger.Instance);
        vhost.Track(session);
        return new Running(vhost, client, session.RunAsync());
    }

    /// <summary>Echoes each message with what the plugin sees of the session.</summary>
    private sealed class EchoHandler : ProtocolHandler
    {
        public List<string> Events { get; } = [];

        public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
        {
            Events.Add($"opened {session.Protocol} {session.UserAgent}");
            return ValueTask.CompletedTask;
        }

        public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
        {
            session.TrySendText("echo:" + Encoding.UTF8.GetString(message.Data.Span));
            return ValueTask.CompletedTask;
        }

        public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
        {
            Events.Add("closed");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowingHandler : ProtocolHandler
    {
        public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
            => throw new InvalidOperationException("the plugin's own bug");
    }

    [Test]
    public async Task AFragmentedMessage_ReachesTheHandlerWhole_AndItsReplyComesBack()
    {
        var handler = new EchoHandler();
        await using var running = Start(handler);

        await running.SendTextAsync("hel", endOfMessage: false);
        await running.SendTextAsync("lo");

        Assert.That(await running.ReceiveTextAsync(), Is.EqualTo("echo:hello"));
        Assert.That(handler.Events[0], Is.EqualTo("opened dumb-increment-protocol unit test"));
    }

    [Test]
    public async Task AClientClose_IsEchoed_AndTheHandlerHearsTheSessionClosed_Once()
    {
        var handler = new EchoHandler();
        var running = Start(handler);

        await running.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(Within);
        await running.Session.WaitAsync(Within);

        Assert.That(running.Client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(handler.Events.Count(e => e == "closed"), Is.EqualTo(1));
        Assert.That(running.Vhost.SessionCount, Is.Zero, "the session left its vhost");
        await running.Vhost.DisposeAsync();
    }

    [Test]
    public async Task AMessageOverTheVhostsLimit_ClosesWith1009_NamingTheLimit()
    {
        await using var running = Start(new EchoHandler(), new VhostOptions { Name = "v", Port = 0, MaxMessageSize = 16 });

        await running.SendTextAsync(new string('x', 17));

        Assert.That(await running.ReceiveCloseAsync(), Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.MessageTooBig, "message larger than 16 bytes")));
    }

    [Test]
    public async Task AHandlerThatThrows_ClosesOnlyItsSession_With1011()
    {
        await using var throwing = Start(new ThrowingHandler());
        await using var healthy = Start(new EchoHandler());

        await throwing.SendTextAsync("boom");
        await healthy.SendTextAsync("still here");

        Assert.That((await throwing.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.InternalServerError));
        Assert.That(await healthy.ReceiveTextAsync(), Is.EqualTo("echo:still here"));
    }

    [Test]
    public async Task DestroyingTheVhost_ClosesTheSessionWith1001_AndTheDrainEnds()
    {
        var running = Start(new EchoHandler());
        Assert.That(running.Vhost.SessionCount, Is.EqualTo(1));

        var stopping = running.Vhost.StopAsync();

        Assert.That(await running.ReceiveCloseAsync(), Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed")));
        await running.Client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
        await stopping.WaitAsync(Within);
        await running.Session.WaitAsync(Within);
        await running.Vhost.DisposeAsync();
    }

    /// <summary>Two connected in-memory streams: what one writes, the other reads.</summary>
    private sealed class DuplexStream(PipeReader input, PipeWriter output) : Stream
    {
        private readonly Stream _input = input.AsStream();
        private readonly Stream _output = output.AsStream();

        public static (Stream A, Stream B) CreatePair()
        {
            var ab = new Pipe();
            var ba = new Pipe();
            return (new DuplexStream(ba.Reader, ab.Writer), new DuplexStream(ab.Reader, ba.Writer));
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
                _output.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
