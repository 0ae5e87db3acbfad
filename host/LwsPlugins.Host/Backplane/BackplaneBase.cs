using System.Collections.Concurrent;
using System.Net.WebSockets;
using LwsPlugins.Host.Logging;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// What every backplane shares: channels joined by local groups (one per prefix + vhost + protocol + group name), the
/// framing with this server's origin and per-channel sequence numbers, skipping the server's own messages, and the counts
/// the status document shows. A transport (in-process, Redis) sends frames and hands received ones to <see cref="Deliver"/>.
/// </summary>
internal abstract class BackplaneBase : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, BackplaneChannel> _channels = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private long _published;
    private long _received;
    private long _dropped;
    private long _gaps;
    private long _lostReports;
    private long _incarnations;
    private int _dropping;

    protected BackplaneBase(string channelPrefix, TimeProvider time, ILogger logger)
    {
        _prefix = channelPrefix;
        Time = time;
        Logger = logger;
    }

    /// <summary>This server's id in every frame it publishes (one per context, so two contexts in one process differ).</summary>
    public Guid Origin { get; } = Guid.NewGuid();

    /// <summary>Called after the backplane's state changed (the status document is pushed).</summary>
    public Action? StateChanged { get; set; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    protected abstract string Kind { get; }

    protected abstract string Endpoint { get; }

    protected abstract bool IsConnected { get; }

    protected abstract DateTimeOffset StateSince { get; }

    protected virtual long Reconnects => 0;

    /// <summary>Whether anyone else could receive a publication; when not, nothing is framed or sent.</summary>
    protected virtual bool HasPeers => true;

    protected virtual string? LastError => null;

    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Whether publications are taken while <see cref="IsConnected"/> is false (an outbox sends them later).</summary>
    protected virtual bool BuffersWhileDown => false;

    /// <summary>Messages held for the other servers (waiting to be sent, or kept to be sent again to a Redis that lost them).</summary>
    protected virtual long Outbox => 0;

    /// <summary>Joins <c>prefix + name</c>; the first link of a channel subscribes to it.</summary>
    public BackplaneLink Join(string name, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver, Action<string>? lost = null)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        var channelName = _prefix + name;
        BackplaneChannel channel;
        BackplaneLink link;
        bool first;
        lock (_gate)
        {
            first = !_channels.TryGetValue(channelName, out channel!);
            if (first)
            {
                channel = new BackplaneChannel(channelName, Interlocked.Increment(ref _incarnations));
                _channels[channelName] = channel;
            }

            link = new BackplaneLink(this, channel, deliver, lost);
            channel.Links = channel.Links.Add(link);
        }

        if (first)
        {
            OnChannelOpened(channel);
        }

        return link;
    }

    /// <summary>Removes a disposed link; the last one unsubscribes its channel.</summary>
    internal void Leave(BackplaneLink link)
    {
        var channel = link.Channel;
        bool last;
        lock (_gate)
        {
            channel.Links = channel.Links.Remove(link);
            last = channel.Links.IsEmpty;
            if (last)
            {
                _channels.TryRemove(new KeyValuePair<string, BackplaneChannel>(channel.Name, channel));
                lock (channel.PublishGate)
                {
                    channel.Closed = true;
                }
            }
        }

        if (last)
        {
            OnChannelClosed(channel);
        }
    }

    /// <summary>
    /// Frames a group's broadcast and hands it to the transport; never waits for it. Every broadcast takes a sequence
    /// number, also one that is dropped, so the other servers see what they missed as a gap.
    /// </summary>
    internal bool Publish(BackplaneChannel channel, string? senderId, WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        if (!HasPeers)
        {
            return true;
        }

        lock (channel.PublishGate)
        {
            if (channel.Closed)
            {
                return false;
            }

            var sequence = ++channel.Sequence;
            if (!IsConnected && !BuffersWhileDown)
            {
                CountDropped("the backplane is down");
                return false;
            }

            if (!TrySend(channel, BackplaneFrame.Encode(Origin, channel.Incarnation, sequence, senderId, type, payload.Span)))
            {
                CountDropped("the send buffer is full");
                return false;
            }

            return true;
        }
    }

    public BackplaneStatus GetStatus() => new()
    {
        Kind = Kind,
        State = IsConnected ? "connected" : "down",
        Since = StateSince,
        Endpoint = Endpoint,
        Reconnects = Reconnects,
        Channels = CountChannels(),
        Published = Interlocked.Read(ref _published),
        Received = Interlocked.Read(ref _received),
        Dropped = Interlocked.Read(ref _dropped),
        Gaps = Interlocked.Read(ref _gaps),
        Outbox = Outbox,
        LostReports = Interlocked.Read(ref _lostReports),
        LastError = LastError,
    };

    /// <summary>Channels with at least one local group.</summary>
    internal IReadOnlyCollection<BackplaneChannel> Channels => [.. _channels.Values];

    /// <summary>Queues a frame for the other servers; <see langword="false"/> when it cannot be queued now.</summary>
    protected abstract bool TrySend(BackplaneChannel channel, byte[] frame);

    protected abstract void OnChannelOpened(BackplaneChannel channel);

    protected abstract void OnChannelClosed(BackplaneChannel channel);

    protected virtual int CountChannels() => _channels.Count;

    protected void CountPublished(long count = 1)
    {
        Interlocked.Add(ref _published, count);
        Volatile.Write(ref _dropping, 0);
    }

    /// <summary>Counts a message the other servers will not get; logs the first of a run of drops.</summary>
    protected void CountDropped(string reason)
    {
        var dropped = Interlocked.Increment(ref _dropped);
        if (Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            Log.BackplaneDropping(Logger, reason, dropped);
        }
    }

    protected void NotifyStateChanged()
    {
        try
        {
            StateChanged?.Invoke();
        }
        catch (Exception)
        {
            // The status document's refresh must not break the transport's callback.
        }
    }

    /// <summary>
    /// Hands a frame received on a channel to the channel's local groups, unless this server sent it or saw it already
    /// (a frame sent again after a reconnect or to a Redis that lost its data). A sequence number skipped (or a mark past
    /// the last one seen) is a loss nothing can repair any more: the channel's groups are told, so their members are
    /// closed rather than left with a hole.
    /// </summary>
    protected void Deliver(string channelName, ReadOnlyMemory<byte> bytes)
    {
        if (!BackplaneFrame.TryDecode(bytes, out var frame))
        {
            Log.BackplaneMalformed(Logger, channelName, bytes.Length);
            return;
        }

        if (frame.Origin == Origin || !_channels.TryGetValue(channelName, out var channel))
        {
            return;
        }

        lock (channel.ReceiveGate)
        {
            long missed = 0;
            if (channel.LastSeen.TryGetValue(frame.Origin, out var last))
            {
                if (frame.Incarnation < last.Incarnation || (frame.Incarnation == last.Incarnation && frame.Sequence <= last.Sequence))
                {
                    // Seen already, or from a channel object of that server that came before the one it now publishes from.
                    return;
                }

                if (frame.Incarnation == last.Incarnation)
                {
                    missed = frame.Sequence - last.Sequence - (frame.IsMark ? 0 : 1);
                }
            }

            channel.LastSeen[frame.Origin] = (frame.Incarnation, frame.Sequence);
            if (missed > 0)
            {
                Interlocked.Add(ref _gaps, missed);
                ReportLostLocked(channel, $"{missed} message(s) of server {frame.Origin:N} never arrived");
            }

            if (frame.IsMark)
            {
                return;
            }

            Interlocked.Increment(ref _received);
            foreach (var link in channel.Links)
            {
                try
                {
                    link.Deliver(frame.Type, frame.Payload);
                }
                catch (Exception ex)
                {
                    Log.BackplaneDeliveryFailed(Logger, ex, channelName);
                }
            }
        }
    }

    /// <summary>Tells the channel's groups that messages to them were lost beyond recovery (their members are closed).</summary>
    protected void ReportLost(BackplaneChannel channel, string reason)
    {
        lock (channel.ReceiveGate)
        {
            ReportLostLocked(channel, reason);
        }
    }

    private void ReportLostLocked(BackplaneChannel channel, string reason)
    {
        Interlocked.Increment(ref _lostReports);
        var told = 0;
        foreach (var link in channel.Links)
        {
            try
            {
                told += link.ReportLost(reason) ? 1 : 0;
            }
            catch (Exception ex)
            {
                Log.BackplaneDeliveryFailed(Logger, ex, channel.Name);
            }
        }

        Log.BackplaneGapReported(Logger, channel.Name, reason, told);
        NotifyStateChanged();
    }
}
