using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace LwsPlugins.Host.Backplane;

/// <summary>The read side: one loop reads every open group's stream from the last delivered id and hands entries to the groups.</summary>
internal sealed partial class RedisBackplane
{
    /// <summary>Wakes the read loop: at once when it waits for channels, through <c>CLIENT UNBLOCK</c> when it is blocked in <c>XREAD</c>.</summary>
    private void SignalReader()
    {
        if (Interlocked.Exchange(ref _readerSignalled, 1) == 0)
        {
            _readerWake.Release();
        }

        var id = Interlocked.Read(ref _readerClientId);
        if (id >= 0 && _connected && _multiplexer is { } multiplexer)
        {
            _ = multiplexer.GetDatabase().ExecuteAsync("CLIENT", ["UNBLOCK", id], CommandFlags.FireAndForget);
        }
    }

    private async Task ReadLoopAsync()
    {
        var stopping = _stopping.Token;
        var open = new Dictionary<string, (BackplaneChannel Channel, RedisStreamCursor Cursor)>(StringComparer.Ordinal);
        var arguments = new List<object>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Volatile.Write(ref _readerSignalled, 0);
                var database = _reader!.GetDatabase();
                if (_readerCheck)
                {
                    await CheckReaderAsync(database).ConfigureAwait(false);
                }

                open.Clear();
                foreach (var channel in Channels)
                {
                    if (channel.Transport is RedisStreamCursor cursor)
                    {
                        open[channel.Name] = (channel, cursor);
                    }
                }

                if (open.Count == 0)
                {
                    await WaitAsync(_readerWake, stopping).ConfigureAwait(false);
                    continue;
                }

                arguments.Clear();
                arguments.AddRange(["COUNT", ReadBatch, "BLOCK", BlockMs, "STREAMS"]);
                arguments.AddRange(open.Keys);
                arguments.AddRange(open.Values.Select(o => o.Cursor.Id));
                var result = await database.ExecuteAsync("XREAD", arguments).ConfigureAwait(false);
                if (result.IsNull || result.Resp2Type != ResultType.Array)
                {
                    continue;
                }

                DeliverRead((RedisResult[])result!, open);
                // Paced by the queues it fills, as a session is: the stream keeps what is not read yet.
                await _readerGate.WaitAsync().WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Redis away, or a reply not understood: read again from the same ids once connected.
                Log.BackplaneReadFailed(Logger, Endpoint, FirstLine(ex.Message));
                _readerCheck = true;
                await Delay(200, stopping).ConfigureAwait(false);
            }
        }
    }

    private void DeliverRead(RedisResult[] streams, Dictionary<string, (BackplaneChannel Channel, RedisStreamCursor Cursor)> open)
    {
        var outer = WebSocketSession.SwapFeeder(_readerGate);
        try
        {
            foreach (var stream in streams)
            {
                var parts = (RedisResult[])stream!;
                if (parts.Length < 2 || !open.TryGetValue((string)parts[0]!, out var target))
                {
                    continue;
                }

                var entries = (RedisResult[])parts[1]!;
                foreach (var entry in entries)
                {
                    var fields = (RedisResult[])entry!;
                    if (fields.Length > 1 && !fields[1].IsNull && (RedisResult[])fields[1]! is { Length: >= 2 } values && (byte[]?)values[1] is { } value)
                    {
                        DeliverEntry(target.Channel.Name, (string?)values[0], value);
                    }
                }

                // Deliver does not throw (a group's exception is logged there): the whole reply was delivered.
                if (entries.Length > 0)
                {
                    target.Cursor.Id = (string)((RedisResult[])entries[^1]!)[0]!;
                }
            }
        }
        finally
        {
            WebSocketSession.SwapFeeder(outer);
        }
    }

    /// <summary>Hands each frame of a stream entry on: a pack (field <c>p</c>) or a single frame (field <c>f</c>).</summary>
    private void DeliverEntry(string channelName, string? field, byte[] value)
    {
        if (field != RedisStreamPack.Field)
        {
            Deliver(channelName, value);
            return;
        }

        var at = 0;
        while (RedisStreamPack.TryNext(value, ref at, out var frame))
        {
            Deliver(channelName, frame);
        }

        if (at != value.Length)
        {
            Log.BackplaneMalformed(Logger, channelName, value.Length - at);
        }
    }

    /// <summary>
    /// After the read connection (re)connected: a new run id means Redis lost its streams, so every channel is read again
    /// from the start of the new ones (what was seen is skipped by sequence number); the same run id means reading on, unless
    /// the stream's trimming passed the last id read (entries this server never saw are gone).
    /// </summary>
    private async Task CheckReaderAsync(IDatabase database)
    {
        var runId = await ReadRunIdAsync(database).ConfigureAwait(false);
        var clientId = (long)await database.ExecuteAsync("CLIENT", "ID").ConfigureAwait(false);
        var previous = _readRunId;
        _readRunId = runId;
        foreach (var channel in Channels)
        {
            if (channel.Transport is not RedisStreamCursor cursor)
            {
                continue;
            }

            if (previous is not null && previous != runId)
            {
                cursor.Id = "0-0";
                continue;
            }

            StreamInfo info;
            try
            {
                info = await database.StreamInfoAsync(channel.Name).ConfigureAwait(false);
            }
            catch (RedisServerException)
            {
                continue;
            }

            if (RedisStreamCursor.Compare((string?)info.MaxDeletedEntryId, cursor.Id) > 0)
            {
                ReportLost(channel, $"the stream was trimmed past this server's read position {cursor.Id} (streamMaxLength {_options.StreamMaxLength})");
            }
        }

        Interlocked.Exchange(ref _readerClientId, clientId);
        _readerCheck = false;
    }

    private static async Task<string> ReadRunIdAsync(IDatabase database)
    {
        var info = (string?)await database.ExecuteAsync("INFO", "server").ConfigureAwait(false) ?? "";
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("run_id:", StringComparison.Ordinal))
            {
                return line["run_id:".Length..].Trim();
            }
        }

        return "";
    }
}
