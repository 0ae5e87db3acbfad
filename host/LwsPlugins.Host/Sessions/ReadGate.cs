namespace LwsPlugins.Host.Sessions;

/// <summary>
/// Whether a session's receive loop may read its next message (lws: <c>lws_rx_flow_control</c>). Send queues over their
/// high-water mark hold the gate of the session that fed them; it opens again when the last hold is released. The
/// receive loop checks <see cref="IsClosed"/> (one volatile read) before each read and awaits only a closed gate, so the
/// open path costs nothing per message. A closing session's gate is disabled: it must read the client's close frame.
/// </summary>
internal sealed class ReadGate
{
    private TaskCompletionSource? _closed;
    private int _holds;
    private bool _disabled;

    /// <summary>Whether the receive loop must wait (<see cref="WaitAsync"/>) before reading.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) is not null;

    /// <summary>How many send queues hold the gate.</summary>
    public int Holds
    {
        get
        {
            lock (this)
            {
                return _holds;
            }
        }
    }

    /// <summary>Completes when the gate opens (at once when it is open).</summary>
    public Task WaitAsync() => Volatile.Read(ref _closed)?.Task ?? Task.CompletedTask;

    /// <summary>Adds a hold; returns <see langword="true"/> when this hold closed an open gate (a pause begins).</summary>
    public bool Hold()
    {
        lock (this)
        {
            if (_disabled)
            {
                return false;
            }

            if (_holds++ > 0)
            {
                return false;
            }

            // Continuations run asynchronously: the releasing writer never runs the receive loop on its own stack.
            Volatile.Write(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return true;
        }
    }

    /// <summary>Removes a hold; the gate opens when none is left.</summary>
    public void Release()
    {
        TaskCompletionSource? opened;
        lock (this)
        {
            if (_holds == 0 || --_holds > 0)
            {
                return;
            }

            opened = _closed;
            Volatile.Write(ref _closed, null);
        }

        opened?.TrySetResult();
    }

    /// <summary>Opens the gate for good, whatever holds it: the session is closing and must read on to the client's close.</summary>
    public void Disable()
    {
        TaskCompletionSource? opened;
        lock (this)
        {
            _disabled = true;
            _holds = 0;
            opened = _closed;
            Volatile.Write(ref _closed, null);
        }

        opened?.TrySetResult();
    }
}
