using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

/// <summary>
/// One stream per fan-out group against a sharded set of streams, measured on Redis alone (issue 19): for G groups a
/// server has members in, what a message costs Redis to deliver when the reader blocks in <c>XREAD</c> on every stream
/// it reads (per group: G keys in each call; sharded: 16), the delivery's round trip, and Redis's memory for the streams
/// holding the same messages. Messages go one at a time to a random group and are read before the next (paced traffic,
/// where each message is one <c>XREAD</c> wake-up: the case in which the keys per call cost most).
/// </summary>
internal static class GroupsBenchmark
{
    private const int Shards = 16;
    private const int RetainedPerGroup = 100;

    public static async Task RunAsync(string connection, int[] groupCounts)
    {
        Console.WriteLine($"| groups | layout | streams (keys) | Redis time in XREAD + XADD per message (µs) | round trip median / p99 (ms) | used_memory for {RetainedPerGroup} messages per group (MiB) |");
        Console.WriteLine("| ---: | --- | ---: | ---: | --- | ---: |");
        await using var writer = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true");
        await using var reader = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true,syncTimeout=10000,asyncTimeout=10000,protocol=resp2");
        var frame = new byte[4 + 36 + 48];
        Random.Shared.NextBytes(frame);
        foreach (var groups in groupCounts)
        {
            foreach (var sharded in new[] { false, true })
            {
                var db = writer.GetDatabase();
                await db.ExecuteAsync("FLUSHALL");
                var streams = sharded ? Math.Min(Shards, groups) : groups;
                string Key(int group) => sharded ? $"lws/bench/shard-{group % Shards}" : $"lws/bench/group-{group}";

                // Memory: the same messages, per group or in shards (a sharded entry also names its group).
                var before = await UsedMemoryAsync(db);
                var pending = new List<Task>();
                for (var group = 0; group < groups; group++)
                {
                    for (var n = 0; n < RetainedPerGroup; n++)
                    {
                        pending.Add(sharded
                            ? db.StreamAddAsync(Key(group), [new NameValueEntry("g", group), new NameValueEntry("p", frame)])
                            : db.StreamAddAsync(Key(group), "p", frame));
                    }

                    // Pipelined in steps: a million commands in flight at once time out client-side.
                    if (pending.Count >= 10_000)
                    {
                        await Task.WhenAll(pending);
                        pending.Clear();
                    }
                }

                await Task.WhenAll(pending);
                var memory = (await UsedMemoryAsync(db) - before) / 1024.0 / 1024.0;

                // Delivery cost: one message at a time to a random group, read by a reader blocked on every stream.
                var keys = Enumerable.Range(0, groups).Select(Key).Distinct().ToList();
                var ids = keys.ToDictionary(k => k, _ => "$", StringComparer.Ordinal);
                var messages = groups >= 10_000 ? 200 : groups >= 1_000 ? 500 : 2_000;
                var latencies = new List<double>(messages);
                await db.ExecuteAsync("CONFIG", "RESETSTAT");
                var readerDb = reader.GetDatabase();
                for (var n = 0; n < messages; n++)
                {
                    var read = readerDb.ExecuteAsync("XREAD", ["BLOCK", 5000, "STREAMS", .. keys, .. keys.Select(k => ids[k])]);
                    // The XREAD must be blocked before the message is added, as a waiting reader is.
                    await WaitBlockedAsync(db);
                    var started = Stopwatch.GetTimestamp();
                    var group = Random.Shared.Next(groups);
                    await db.StreamAddAsync(Key(group), "p", frame);
                    var result = await read;
                    if (result.Resp2Type != ResultType.Array)
                    {
                        throw new InvalidOperationException($"XREAD answered {result.Resp2Type} '{result}' at message {n}");
                    }

                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    foreach (var stream in (RedisResult[])result!)
                    {
                        var parts = (RedisResult[])stream!;
                        var entries = (RedisResult[])parts[1]!;
                        ids[(string)parts[0]!] = (string)((RedisResult[])entries[^1]!)[0]!;
                    }
                }

                // Redis's own time in XREAD and XADD (INFO commandstats), not the INFO polls that wait for the reader to block.
                var cpu = (await CommandMicrosecondsAsync(db, "xread") + await CommandMicrosecondsAsync(db, "xadd")) / messages;
                latencies.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {groups:N0} | {(sharded ? $"sharded ({Shards})" : "one per group")} | {keys.Count:N0} | {cpu:F0} | {latencies[latencies.Count / 2]:F3} / {latencies[(int)(latencies.Count * 0.99)]:F3} | {memory:F2} |"));
            }
        }
    }

    private static async Task WaitBlockedAsync(IDatabase db)
    {
        for (var attempt = 0; attempt < 2000; attempt++)
        {
            var info = (string?)await db.ExecuteAsync("INFO", "clients") ?? "";
            if (info.Contains("blocked_clients:1", StringComparison.Ordinal))
            {
                return;
            }
        }

        throw new TimeoutException("the reader did not block in XREAD");
    }

    private static async Task<long> UsedMemoryAsync(IDatabase db)
        => long.Parse(Field((string?)await db.ExecuteAsync("INFO", "memory") ?? "", "used_memory"), CultureInfo.InvariantCulture);

    private static async Task<double> CommandMicrosecondsAsync(IDatabase db, string command)
    {
        // cmdstat_xread:calls=2000,usec=123456,usec_per_call=61.73,...
        var stats = Field((string?)await db.ExecuteAsync("INFO", "commandstats") ?? "", "cmdstat_" + command);
        var usec = stats.Split(',').First(p => p.StartsWith("usec=", StringComparison.Ordinal))["usec=".Length..];
        return double.Parse(usec, CultureInfo.InvariantCulture);
    }

    private static string Field(string info, string name)
        => info.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..];
}
