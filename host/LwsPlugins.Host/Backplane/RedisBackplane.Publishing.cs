using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace LwsPlugins.Host.Backplane;

/// <summary>The publish side: the outbox drained in order by one loop, batches packed per group into stream entries.</summary>
internal sealed partial class RedisBackplane
{
    private void SignalPublisher()
    {
        if (Interlocked.Exchange(ref _publishSignalled, 1) == 0)
        {
            _publishWake.Release();
        }
    }

    private async Task PublishLoopAsync()
    {
        var batch = new List<RedisOutbox.Entry>(PublishBatch);
        var packs = new Dictionary<BackplaneChannel, RedisStreamPack>();
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Volatile.Write(ref _publishSignalled, 0);
            if (!_connected || _multiplexer is not { } multiplexer)
            {
                CountLost(_outbox.Trim());
                ResumePublishers(all: true);
                await WaitAsync(_publishWake, stopping).ConfigureAwait(false);
                continue;
            }

            var database = multiplexer.GetDatabase();
            if (_publishCheck && !await CheckPublishEpochAsync(database).ConfigureAwait(false))
            {
                await Delay(200, stopping).ConfigureAwait(false);
                continue;
            }

            batch.Clear();
            _outbox.PeekPending(batch, PublishBatch);
            if (batch.Count == 0)
            {
                ResumePublishers(all: false);
                if (_marksOwed)
                {
                    _marksOwed = false;
                    EnqueueMarks();
                    continue;
                }

                await WaitAsync(_publishWake, stopping).ConfigureAwait(false);
                continue;
            }

            // One script per batch, in outbox order: a batch is in its streams whole or not at all (a script runs atomically),
            // in one round trip with one reply. Plain pipelining is not enough: when a connection is cut mid-batch, the
            // commands not yet written go out on the new one while those in flight are lost, and a stream would get a
            // message after one that is missing.
            var (keys, values) = Pack(batch, packs);

            var sent = 0;
            var failed = false;
            try
            {
                await database.ScriptEvaluateAsync(AppendScript, keys, values).ConfigureAwait(false);
                sent = batch.Count;
                CountPublished(batch.Count(e => !e.Mark));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or TaskCanceledException)
            {
                // Sent again whole: a batch that reached Redis anyway arrives twice and the other servers skip it.
                failed = true;
                _lastError = FirstLine(ex.Message);
            }

            _outbox.Confirm(batch, sent);
            ResumePublishers(all: false);
            if (failed)
            {
                _publishCheck = true;
                await Delay(100, stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The script's keys and values for a batch: each channel's consecutive frames in packs (<see cref="RedisStreamPack"/>),
    /// a channel's packs in outbox order (a full pack is added before its channel's next one starts).
    /// </summary>
    private (RedisKey[] Keys, RedisValue[] Values) Pack(List<RedisOutbox.Entry> batch, Dictionary<BackplaneChannel, RedisStreamPack> packs)
    {
        var keys = new List<RedisKey>();
        var values = new List<RedisValue> { _options.StreamMaxLength };
        foreach (var entry in batch)
        {
            if (!packs.TryGetValue(entry.Channel, out var pack))
            {
                packs[entry.Channel] = pack = new RedisStreamPack();
            }

            if (!pack.TryAdd(entry.Frame))
            {
                keys.Add(entry.Channel.Name);
                values.Add(pack.Take());
                pack.TryAdd(entry.Frame);
            }
        }

        foreach (var (channel, pack) in packs)
        {
            if (pack.Count > 0)
            {
                keys.Add(channel.Name);
                values.Add(pack.Take());
            }
        }

        // Not kept past the batch: a channel closed meanwhile must not stay referenced.
        packs.Clear();

        return ([.. keys], [.. values]);
    }

    /// <summary>After (re)connecting: a Redis with another run id lost what it held, so everything the outbox keeps goes again.</summary>
    private async Task<bool> CheckPublishEpochAsync(IDatabase database)
    {
        string runId;
        try
        {
            runId = await ReadRunIdAsync(database).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            return false;
        }

        var previous = _publishRunId;
        _publishRunId = runId;
        if (previous is not null && previous != runId)
        {
            var held = _outbox.Rewind();
            Log.BackplaneEpochChanged(Logger, Endpoint, previous, runId, held);
        }

        _publishCheck = false;
        // After what waited: the other servers learn each channel's last sequence number, so a lost tail shows too.
        EnqueueMarks();
        return true;
    }

    private void EnqueueMarks()
    {
        foreach (var channel in Channels)
        {
            lock (channel.PublishGate)
            {
                if (!channel.Closed && channel.Sequence > 0)
                {
                    CountLost(_outbox.Add(channel, BackplaneFrame.EncodeMark(Origin, channel.Incarnation, channel.Sequence), mark: true));
                }
            }
        }
    }

    /// <summary>Counts what the outbox's bounds pushed out before it was sent; the other servers see the gap, and a mark follows.</summary>
    private void CountLost(IReadOnlyList<RedisOutbox.Entry>? lost)
    {
        if (lost is null)
        {
            return;
        }

        foreach (var entry in lost.Where(e => !e.Mark))
        {
            CountDropped("the outbox is full (Redis away longer than its bounds)");
        }

        _marksOwed = true;
    }

    /// <summary>Lets paced senders be read again once the outbox is down to a quarter (or for good: Redis away, dispose).</summary>
    private void ResumePublishers(bool all)
    {
        lock (_pacingGate)
        {
            if (all || _outbox.Pending <= _resumePublishersAt)
            {
                _pacedPublishers.ResumeAll();
            }
        }
    }
}
