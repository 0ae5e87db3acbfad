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
}
