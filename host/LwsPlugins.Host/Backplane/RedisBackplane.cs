using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// Redis Streams between servers (as Socket.IO's streams adapter, with Centrifugo's epoch): one stream per joined group
/// (the channel's name is the key), appended with <c>XADD MAXLEN ~</c>, read by every server with <c>XREAD BLOCK</c> on a
/// connection of its own from the id it delivered last, so a dropped connection reads on where it stopped. Publications
/// go through <see cref="RedisOutbox"/>, sent in order by one loop that pipelines <c>XADD</c>s; while Redis is away they
/// wait there (local fan-out goes on), and what was sent is kept for a while, to be sent again to a Redis that comes back
/// without its data (another run id). Duplicates are skipped by sequence number; what cannot be recovered (the outbox's
/// bounds passed, the stream's retention passed) shows as a gap and the channel's groups are told (their members are
/// closed with 1012), never left silently short.
/// </summary>
internal sealed partial class RedisBackplane : BackplaneBase
{
    private const int PublishBatch = 512;
    /// <summary>Entries per <c>XREAD</c>: at most 1,024 messages handed to members before the reader waits for their queues.</summary>
    private const int ReadBatch = 1024 / RedisStreamPack.MaxFrames;

    /// <summary>Appends each pack of frames (ARGV[2..]) to its stream (KEYS[i]), trimmed to about ARGV[1] entries.</summary>
    private const string AppendScript = """
        for i = 1, #KEYS do
          redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'p', ARGV[i + 1])
        end
        return #KEYS
        """;
    private const int BlockMs = 1000;

    private readonly BackplaneOptions _options;
    private readonly ConfigurationOptions _configuration;
    private readonly ConfigurationOptions _readerConfiguration;
    private readonly RedisOutbox _outbox;
    private readonly Lock _stateGate = new();
    private readonly PausedFeeders _pacedPublishers = new();
    private readonly Lock _pacingGate = new();
    private readonly ReadGate _readerGate = new();
    private readonly int _pacePublishersAt;
    private readonly int _resumePublishersAt;
    private readonly SemaphoreSlim _publishWake = new(0);
    private readonly SemaphoreSlim _readerWake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _multiplexer;
    private ConnectionMultiplexer? _reader;
    private Task? _publisher;
    private Task? _readLoop;
    private int _publishSignalled;
    private int _readerSignalled;
    private volatile bool _connected;
    private volatile bool _publishCheck = true;
    private volatile bool _readerCheck = true;
    private volatile bool _marksOwed;
    private string? _publishRunId;
    private string? _readRunId;
    private long _readerClientId = -1;
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
        // INFO (the run id that tells a restarted Redis) and CLIENT ID/UNBLOCK are "admin" commands to the library only.
        _configuration.AllowAdmin = true;
        _readerConfiguration = _configuration.Clone();
        _readerConfiguration.AbortOnConnectFail = false;
        _readerConfiguration.ClientName = _configuration.ClientName + "-read";
        // XREAD BLOCK holds its connection; the reply shapes parsed below are RESP2's.
        _readerConfiguration.Protocol = RedisProtocol.Resp2;
        _readerConfiguration.AsyncTimeout = Math.Max(_readerConfiguration.AsyncTimeout, BlockMs + 4000);
        Endpoint = string.Join(",", _configuration.EndPoints.Select(Describe));
        _since = time.GetUtcNow();
        // Redis slower than the senders: at half of publishQueueLimit waiting the session whose message it is stops
        // being read, until a quarter is left (policy backpressure, as a full send queue paces its feeders). Only while
        // connected: an outage must not stop local fan-out, the outbox holds what accrues meanwhile.
        _pacePublishersAt = Math.Max(1, options.PublishQueueLimit / 2);
        _resumePublishersAt = options.PublishQueueLimit / 4;
        _outbox = new RedisOutbox(options.OutboxMaxMessages, options.OutboxMaxBytes, TimeSpan.FromMilliseconds(options.OutboxMaxAgeMs), time);
    }

    protected override string Kind => "redis";

    protected override string Endpoint { get; }

    protected override bool IsConnected => _connected;

    protected override bool BuffersWhileDown => true;

    protected override long Outbox => _outbox.Count;

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
            // The library's own text (kept out, inner exception too: the host logs it) advises on its connection string;
            // the operator needs the endpoint and the way out.
            throw new LwsConfigurationException(
                $"backplane.redis: cannot connect to Redis at {Endpoint}: not reachable within {_options.ConnectTimeoutMs} ms " +
                $"({ex.FailureType}). Start Redis there, or set backplane.onStartFailure to \"localOnly\" to serve local members " +
                "until it is up.");
        }

        _reader = await ConnectionMultiplexer.ConnectAsync(_readerConfiguration).WaitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var multiplexer in new[] { _multiplexer, _reader })
        {
            multiplexer.ConnectionFailed += OnConnectionFailed;
            multiplexer.ConnectionRestored += OnConnectionRestored;
        }

        if (UpdateState().Connected)
        {
            Log.BackplaneConnected(Logger, Endpoint);
        }
        else
        {
            _lastError = "unreachable at start";
            Log.BackplaneStartedLocalOnly(Logger, Endpoint);
        }

        _publisher = Task.Run(PublishLoopAsync, CancellationToken.None);
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
    }

    public override async ValueTask DisposeAsync()
    {
        // What is still waiting gets a moment to go out (a server stopped cleanly loses nothing it accepted).
        if (_connected && _publisher is not null)
        {
            var deadline = Time.GetUtcNow() + TimeSpan.FromSeconds(2);
            while (_outbox.Pending > 0 && _connected && Time.GetUtcNow() < deadline)
            {
                SignalPublisher();
                await Task.Delay(10).ConfigureAwait(false);
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        ResumePublishers(all: true);
        _readerGate.Disable();
        foreach (var loop in new[] { _publisher, _readLoop })
        {
            if (loop is not null)
            {
                await loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        foreach (var multiplexer in new[] { _reader, _multiplexer })
        {
            if (multiplexer is not null)
            {
                multiplexer.ConnectionFailed -= OnConnectionFailed;
                multiplexer.ConnectionRestored -= OnConnectionRestored;
                await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
    }

    protected override bool TrySend(BackplaneChannel channel, byte[] frame)
    {
        CountLost(_outbox.Add(channel, frame));
        SignalPublisher();
        if (_connected && _outbox.Pending >= _pacePublishersAt && WebSocketSession.CurrentFeeder is { } feeder)
        {
            // Decided under the lock the publish loop releases under, with the count read again: a hold is either seen
            // by the loop's next release, or not made.
            lock (_pacingGate)
            {
                if (_connected && _outbox.Pending >= _pacePublishersAt)
                {
                    _pacedPublishers.Pause(feeder);
                }
            }
        }

        return true;
    }

    protected override void OnChannelOpened(BackplaneChannel channel) => _ = OpenAsync(channel);

    protected override void OnChannelClosed(BackplaneChannel channel)
    {
        lock (channel.PublishGate)
        {
            channel.Transport = null;
        }

        SignalReader();
        NotifyStateChanged();
    }

    protected override int CountChannels() => Channels.Count(c => c.Transport is RedisStreamCursor);

    /// <summary>Reads the channel's stream from now on: after its last id, or (Redis away) after the current time's id.</summary>
    private async Task OpenAsync(BackplaneChannel channel)
    {
        var at = RedisStreamCursor.At(Time.GetUtcNow());
        if (_connected && _multiplexer is { } multiplexer)
        {
            try
            {
                at = (string?)(await multiplexer.GetDatabase().StreamInfoAsync(channel.Name).ConfigureAwait(false)).LastGeneratedId ?? at;
            }
            catch (RedisServerException)
            {
                // No stream yet: everything it will hold comes after the join.
                at = "0-0";
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                Log.BackplaneSubscribeFailed(Logger, channel.Name, FirstLine(ex.Message));
            }
        }

        lock (channel.PublishGate)
        {
            if (channel.Closed || channel.Transport is not null)
            {
                return;
            }

            channel.Transport = new RedisStreamCursor(at);
        }

        SignalReader();
        NotifyStateChanged();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        var reason = FirstLine(e.Exception?.Message ?? e.FailureType.ToString());
        _lastError = $"{e.FailureType}: {reason}";
        if (sender == _reader)
        {
            _readerCheck = true;
        }
        else
        {
            _publishCheck = true;
        }

        if (UpdateState().Changed && !_connected)
        {
            ResumePublishers(all: true);
            Log.BackplaneLost(Logger, Endpoint, e.FailureType.ToString(), reason);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (sender == _reader)
        {
            _readerCheck = true;
        }
        else
        {
            _publishCheck = true;
        }

        var (connected, changed) = UpdateState();
        if (connected && changed)
        {
            Log.BackplaneReconnected(Logger, Endpoint, Reconnects);
        }

        SignalPublisher();
        SignalReader();
    }

    /// <summary>Works out the state (both connections up) and records a transition.</summary>
    private (bool Connected, bool Changed) UpdateState()
    {
        var connected = _multiplexer is { IsConnected: true } && _reader is { IsConnected: true };
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

    private static async Task WaitAsync(SemaphoreSlim wake, CancellationToken stopping)
    {
        try
        {
            await wake.WaitAsync(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop ends.
        }
    }

    private static async Task Delay(int milliseconds, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(milliseconds, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop ends.
        }
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
