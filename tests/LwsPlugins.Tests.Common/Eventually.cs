namespace LwsPlugins.Tests.Common;

/// <summary>Bounded waits for a condition that becomes true asynchronously (a background part 2, a watcher, a writer).</summary>
public static class Eventually
{
    /// <summary>Polls an asynchronous <paramref name="condition"/> (a handshake, a request) until it holds; fails with a timeout after <paramref name="within"/> (10 s by default).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? WsClient.DefaultTimeout);
        while (!await condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the condition did not hold within {within ?? WsClient.DefaultTimeout}");
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with a timeout after <paramref name="within"/> (10 s by default).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? WsClient.DefaultTimeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the condition did not hold within {within ?? WsClient.DefaultTimeout}");
            }
        }
    }

    /// <summary>
    /// Polls an asynchronous <paramref name="condition"/> (e.g. a connection attempt that fails until a plugin is
    /// attached) until it returns true, 10 ms apart; fails with a timeout after <paramref name="within"/> (10 s by default).
    /// An attempt still running at the deadline is awaited, so a condition should bound its own I/O.
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = within ?? WsClient.DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"the condition did not hold within {limit}");
            }

            await Task.Delay(10);
        }
    }
}
