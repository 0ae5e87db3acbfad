using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Plugins.Mirror;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace Micro;

/// <summary>Send-queue enqueue/dequeue: the engine's <see cref="SendQueue"/> against the bounded Channel it replaced.</summary>
public class SendQueueBenchmarks
{
    private readonly OutboundMessage _message = new(WebSocketMessageType.Text, new byte[64], 0);
    private readonly ReadGate _feeder = new();
    private SendQueue _queue = null!;
    private SendQueue _backpressure = null!;
    private Channel<OutboundMessage> _channel = null!;

    /// <summary>Messages queued before the writer drains them.</summary>
    [Params(1, 16)]
    public int Burst { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _queue = new SendQueue(1024, dropOldest: false);
        _backpressure = new SendQueue(1024, dropOldest: false, backpressure: true);
        _channel = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    [Benchmark(Baseline = true)]
    public int Channel_EnqueueDequeue()
    {
        var n = 0;
        for (var i = 0; i < Burst; i++)
        {
            _channel.Writer.TryWrite(_message);
        }

        while (_channel.Reader.TryRead(out _))
        {
            n++;
        }

        return n;
    }

    [Benchmark]
    public int SendQueue_EnqueueDequeue()
    {
        var n = 0;
        for (var i = 0; i < Burst; i++)
        {
            _queue.TryEnqueue(_message, out _);
        }

        while (_queue.TryDequeue(out _) == DequeueResult.Message)
        {
            n++;
        }

        return n;
    }

    /// <summary>Policy backpressure under the limit, as the engine's session uses it: a feeder passed, progress recorded.</summary>
    [Benchmark]
    public int SendQueue_Backpressure_EnqueueDequeue()
    {
        var n = 0;
        for (var i = 0; i < Burst; i++)
        {
            _backpressure.TryEnqueue(_message, _feeder, out _, out _);
        }

        while (_backpressure.TryDequeue(out _, 0) == DequeueResult.Message)
        {
            n++;
        }

        return n;
    }
}

/// <summary>Fan-out: one broadcast through <see cref="SessionGroup"/> to N members, each enqueueing and draining.</summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private readonly ReadOnlyMemory<byte> _payload = new byte[64];
    private SessionGroup _group = null!;

    [Params(10, 100, 500)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _group = new SessionGroup();
        for (var i = 0; i < Members; i++)
        {
            _group.Add(new QueueSession("?mirror=bench"));
        }
    }

    [Benchmark]
    public int Broadcast() => _group.Broadcast(WebSocketMessageType.Text, _payload);
}

/// <summary>Message dispatch: the mirror plugin's OnMessageAsync (validate, copy once, broadcast) with N members.</summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private readonly WebSocketMessage _message = new(WebSocketMessageType.Text, Encoding.ASCII.GetBytes(new string('x', 64)));
    private MirrorHandler _handler = null!;
    private QueueSession _sender = null!;

    [Params(1, 100)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _handler = new MirrorHandler(Options.Create(new MirrorOptions()), new LocalProtocolContext());
        for (var i = 0; i < Members; i++)
        {
            var session = new QueueSession("?mirror=bench");
            _handler.OnSessionOpenedAsync(session, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            _sender ??= session;
        }
    }

    [Benchmark]
    public ValueTask MirrorOnMessage() => _handler.OnMessageAsync(_sender, _message, CancellationToken.None);

    /// <summary>A host that offers no backplane: the mirror fans out in process, as on one server.</summary>
    private sealed class LocalProtocolContext : IProtocolContext, IServiceProvider
    {
        public string VhostName => "bench";

        public string ProtocolName => "lws-mirror-protocol";

        public string PluginId => "mirror";

        public IServiceProvider Services => this;

        public void BindOptions(object options)
        {
        }

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>Frame writes: the server WebSocket writing 16 queued 64-byte text messages, directly and through the frame guard.</summary>
[MemoryDiagnoser]
public class FrameWriteBenchmarks
{
    private readonly ReadOnlyMemory<byte> _payload = Encoding.ASCII.GetBytes(new string('x', 64));
    private WebSocket _direct = null!;
    private WebSocket _guarded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _direct = WebSocket.CreateFromStream(new DiscardStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        _guarded = WebSocket.CreateFromStream(
            new ClientFrameGuardStream(new DiscardStream(), 1 << 20), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 16)]
    public async Task Direct16()
    {
        for (var i = 0; i < 16; i++)
        {
            await _direct.SendAsync(_payload, WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }

    [Benchmark(OperationsPerInvoke = 16)]
    public async Task ThroughGuard16()
    {
        for (var i = 0; i < 16; i++)
        {
            await _guarded.SendAsync(_payload, WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }
}
