using System.Collections.Concurrent;

namespace LwsPlugins.Host.Plugins.Reload;

/// <summary>
/// Work that retires something in the background (an instance draining after a reload or a changed definition, what a
/// failed constructor left): nobody awaits it when it starts, the context awaits all of it when it is disposed.
/// </summary>
internal sealed class RetirementTracker
{
    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    public void Track(Task retirement)
    {
        _pending.TryAdd(retirement, 0);
        _ = retirement.ContinueWith(
            static (task, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(task, out _),
            _pending, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task WhenAllAsync() => Task.WhenAll(_pending.Keys);
}
