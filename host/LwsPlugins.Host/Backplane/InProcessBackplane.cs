using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// The default backplane: embedded, nothing to set up. Backplanes on the same <see cref="InProcessBus"/> (one per context
/// unless a test or benchmark shares one between contexts) exchange frames in memory; each delivers on its own loop, so a
/// publisher never runs another context's groups on its thread.
/// </summary>
internal sealed class InProcessBackplane : BackplaneBase
{
    private readonly InProcessBus _bus;
    private readonly Channel<(string Channel, byte[] Frame)> _inbox;
    private readonly DateTimeOffset _since;
    private Task? _loop;

    public InProcessBackplane(InProcessBus bus, string channelPrefix, int queueLimit, TimeProvider time, ILogger logger)
        : base(channelPrefix, time, logger)
    {
        _bus = bus;
        _since = time.GetUtcNow();
        _inbox = Channel.CreateBounded<(string, byte[])>(new BoundedChannelOptions(queueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    protected override string Kind => "in-process";

    protected override string Endpoint => "";

    protected override bool IsConnected => true;

    protected override DateTimeOffset StateSince => _since;

    /// <summary>Alone on its bus (the default: one bus per context), a broadcast costs nothing beyond local delivery.</summary>
    protected override bool HasPeers => _bus.Count > 1;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _bus.Add(this);
        _loop = Task.Run(DeliverLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public override async ValueTask DisposeAsync()
    {
        _bus.Remove(this);
        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    /// <summary>Takes a frame another backplane on the bus published; dropped (the publisher counted nothing) when the inbox is full.</summary>
    internal bool Receive(string channel, byte[] frame) => _inbox.Writer.TryWrite((channel, frame));

    protected override bool TrySend(BackplaneChannel channel, byte[] frame)
    {
        // Every member of the bus gets it, this one too: the origin check keeps it from being delivered twice here.
        _bus.Publish(channel.Name, frame);
        CountPublished();
        return true;
    }

    protected override void OnChannelOpened(BackplaneChannel channel)
    {
        NotifyStateChanged();
    }

    protected override void OnChannelClosed(BackplaneChannel channel)
    {
        NotifyStateChanged();
    }

    private async Task DeliverLoopAsync()
    {
        await foreach (var (channel, frame) in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Deliver(channel, frame);
        }
    }
}
