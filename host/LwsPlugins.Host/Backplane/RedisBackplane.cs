using System.Net;
using System.Threading.Channels;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// Redis pub/sub between servers (as SignalR's Redis backplane): one channel per joined group, one subscription per
/// channel, processed in order (a <see cref="ChannelMessageQueue"/>). Publications go through a bounded queue drained by
/// one loop that pipelines PUBLISH commands, so no session's receive loop ever waits for Redis. While Redis is down local
/// fan-out goes on, publications are dropped and counted, and the multiplexer reconnects by itself (subscriptions that
/// could not be made are made once it is back).
/// </summary>
internal sealed class RedisBackplane : BackplaneBase
{
    private const int PublishBatch = 256;

    private readonly BackplaneOptions _options;
    private readonly ConfigurationOptions _configuration;
    private readonly Channel<(RedisChannel Channel, byte[] Frame)> _outbox;
    private readonly Lock _stateGate = new();
    private readonly Sessions.PausedFeeders _pacedPublishers = new();
    private readonly Lock _pacingGate = new();
    private readonly int _pacePublishersAt;
    private readonly int _resumePublishersAt;
    private ConnectionMultiplexer? _multiplexer;
    private ISubscriber? _subscriber;
    private Task? _publisher;
    private volatile bool _connected;
    private bool _everConnected;
    private DateTimeOffset _since;
    private long _reconnects;
    private volatile string? _lastError;

    public RedisBackplane(BackplaneOptions options, TimeProvider time, ILogger logger)
        : base(options.ChannelPrefix, time, logger)
    {
        _options = options;
        _configuration = ConfigurationOptions.Parse(options.Redis!);
        _configuration.AbortOnConnectFail = options.OnStartFailure == BackplaneStartFailure.Fail;
        _configuration.ConnectTimeout = options.ConnectTimeoutMs;
        _configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        _configuration.ClientName ??= $"lws-{Environment.MachineName}-{Origin:N}";
        Endpoint = string.Join(",", _configuration.EndPoints.Select(Describe));
        _since = time.GetUtcNow();
        // Redis slower than the senders: at half the outbox the session whose message it is stops being read, until
        // the outbox is down to a quarter (policy backpressure, as a full send queue paces its feeders); only what the
        // host cannot pause (timers, sends after a callback's first await) can fill it and be dropped.
        _pacePublishersAt = Math.Max(1, options.PublishQueueLimit / 2);
        _resumePublishersAt = options.PublishQueueLimit / 4;
        _outbox = Channel.CreateBounded<(RedisChannel, byte[])>(new BoundedChannelOptions(options.PublishQueueLimit)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    protected override string Kind => "redis";

    protected override string Endpoint { get; }

    protected override bool IsConnected => _connected;

    protected override DateTimeOffset StateSince
    {
        get
        {
            lock (_stateGate)
            {
                return _since;
            }
        }
    }

    protected override long Reconnects => Interlocked.Read(ref _reconnects);

    protected override string? LastError => _lastError;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            throw new LwsConfigurationException(
                $"backplane.redis: cannot connect to Redis at {Endpoint}: {FirstLine(ex.Message)} Start Redis there, or set " +
                "backplane.onStartFailure to \"localOnly\" to start with local fan-out only.", ex);
        }

        _subscriber = _multiplexer.GetSubscriber();
        _multiplexer.ConnectionFailed += OnConnectionFailed;
        _multiplexer.ConnectionRestored += OnConnectionRestored;
        _publisher = Task.Run(PublishLoopAsync, CancellationToken.None);
        if (UpdateState(null).Connected)
        {
            Log.BackplaneConnected(Logger, Endpoint);
        }
        else
        {
            _lastError = "unreachable at start";
            Log.BackplaneStartedLocalOnly(Logger, Endpoint);
        }

        SubscribePending();
    }

    public override async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        ResumePublishers(all: true);
        if (_publisher is not null)
        {
            await _publisher.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_multiplexer is { } multiplexer)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
            multiplexer.ConnectionRestored -= OnConnectionRestored;
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected override bool TrySend(BackplaneChannel channel, byte[] frame)
    {
        if (!_outbox.Writer.TryWrite((RedisChannel.Literal(channel.Name), frame)))
        {
            return false;
        }

        if (_outbox.Reader.Count >= _pacePublishersAt && Sessions.WebSocketSession.CurrentFeeder is { } feeder)
        {
            // Decided under the lock the publish loop releases under, with the count read again: a hold is either seen
            // by the loop's next release, or not made.
            lock (_pacingGate)
            {
                if (_outbox.Reader.Count >= _pacePublishersAt)
                {
                    _pacedPublishers.Pause(feeder);
                }
            }
        }

        return true;
    }

    /// <summary>Lets paced senders be read again once the outbox is down to a quarter (or for good, on dispose).</summary>
    private void ResumePublishers(bool all)
    {
        lock (_pacingGate)
        {
            if (all || _outbox.Reader.Count <= _resumePublishersAt)
            {
                _pacedPublishers.ResumeAll();
            }
        }
    }

    protected override void OnChannelOpened(BackplaneChannel channel)
    {
        if (_connected)
        {
            _ = SubscribeAsync(channel);
        }
    }

    protected override void OnChannelClosed(BackplaneChannel channel)
    {
        ChannelMessageQueue? queue;
        lock (channel.PublishGate)
        {
            queue = channel.Transport as ChannelMessageQueue;
            channel.Transport = null;
        }

        if (queue is not null)
        {
            _ = UnsubscribeAsync(queue);
            NotifyStateChanged();
        }
    }

    protected override int CountChannels() => Channels.Count(c => c.Transport is not null);

    private async Task SubscribeAsync(BackplaneChannel channel)
    {
        lock (channel.PublishGate)
        {
            if (channel.Closed || channel.Transport is not null || channel.Subscribing)
            {
                return;
            }

            channel.Subscribing = true;
        }

        ChannelMessageQueue queue;
        try
        {
            queue = await _subscriber!.SubscribeAsync(RedisChannel.Literal(channel.Name)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            lock (channel.PublishGate)
            {
                channel.Subscribing = false;
            }

            // Made again when the connection is back (SubscribePending).
            Log.BackplaneSubscribeFailed(Logger, channel.Name, FirstLine(ex.Message));
            return;
        }

        bool closed;
        lock (channel.PublishGate)
        {
            channel.Subscribing = false;
            closed = channel.Closed;
            if (!closed)
            {
                channel.Transport = queue;
            }
        }

        if (closed)
        {
            await UnsubscribeAsync(queue).ConfigureAwait(false);
            return;
        }

        // One queue per channel, read in order; the multiplexer re-subscribes it after a reconnect.
        var name = channel.Name;
        queue.OnMessage(message =>
        {
            if ((byte[]?)message.Message is { } frame)
            {
                Deliver(name, frame);
            }
        });
        NotifyStateChanged();
    }

    private static async Task UnsubscribeAsync(ChannelMessageQueue queue)
    {
        try
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Redis is down: the subscription went with the connection, and the queue is not re-made.
        }
    }

    private void SubscribePending()
    {
        if (!_connected)
        {
            return;
        }

        foreach (var channel in Channels)
        {
            if (channel.Transport is null)
            {
                _ = SubscribeAsync(channel);
            }
        }
    }

    private async Task PublishLoopAsync()
    {
        var reader = _outbox.Reader;
        var batch = new List<Task>(PublishBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < PublishBatch && reader.TryRead(out var item))
            {
                if (!_connected)
                {
                    CountDropped("the backplane is down");
                    continue;
                }

                try
                {
                    // Pipelined on one connection in call order: the other servers get them in this order.
                    batch.Add(_subscriber!.PublishAsync(item.Channel, item.Frame));
                }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
                {
                    CountDropped("publishing failed");
                }
            }

            foreach (var publish in batch)
            {
                try
                {
                    await publish.ConfigureAwait(false);
                    CountPublished();
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
                {
                    CountDropped("publishing failed");
                }
            }

            batch.Clear();
            ResumePublishers(all: false);
        }

        ResumePublishers(all: true);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        var reason = FirstLine(e.Exception?.Message ?? e.FailureType.ToString());
        _lastError = $"{e.FailureType}: {reason}";
        if (UpdateState(false).Changed)
        {
            Log.BackplaneLost(Logger, Endpoint, e.FailureType.ToString(), reason);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        var (connected, changed) = UpdateState(null);
        if (connected && changed)
        {
            Log.BackplaneReconnected(Logger, Endpoint, Reconnects);
        }

        SubscribePending();
    }

    /// <summary>Works out the state (both of the multiplexer's connections up, unless <paramref name="forced"/>) and records a transition.</summary>
    private (bool Connected, bool Changed) UpdateState(bool? forced)
    {
        var multiplexer = _multiplexer;
        var connected = forced ?? (multiplexer is not null && multiplexer.IsConnected && _subscriber!.IsConnected());
        bool changed;
        lock (_stateGate)
        {
            changed = connected != _connected;
            if (changed)
            {
                _connected = connected;
                _since = Time.GetUtcNow();
                if (connected && _everConnected)
                {
                    Interlocked.Increment(ref _reconnects);
                }

                _everConnected |= connected;
            }
        }

        if (changed)
        {
            NotifyStateChanged();
        }

        return (connected, changed);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? message : message[..end];
        return line.EndsWith('.') ? line : line + ".";
    }

    private static string Describe(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "",
    };
}
