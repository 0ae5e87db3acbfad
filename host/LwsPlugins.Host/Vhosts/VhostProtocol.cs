using System.Text.Json;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A protocol as one vhost serves it: the instance new sessions go to (replaced on hot reload), or why the protocol is
/// unavailable, plus the vhost's options for it.
/// </summary>
internal sealed class VhostProtocol
{
    private readonly Lock _gate = new();
    private readonly List<ProtocolInstance> _retiring = [];
    private volatile ProtocolInstance? _current;
    private volatile string? _unavailableReason;
    private long _retiredCallbackTimeouts;

    public VhostProtocol(string name, JsonElement? options, ProtocolInstance? current, string? unavailableReason, bool listed = true)
    {
        Name = name;
        Listed = listed;
        Options = options;
        _current = current;
        _unavailableReason = current is null ? unavailableReason ?? "unavailable" : null;
    }

    /// <summary>The vhost's binding for WebSocket requests that name no protocol: accepted, and nothing is sent on them.</summary>
    public static VhostProtocol None { get; } = new("", null, ProtocolInstance.None, null);

    public string Name { get; }

    /// <summary>
    /// Whether the vhost's <c>protocols</c> names it; otherwise it is served because the vhost serves every loaded
    /// plugin, and it leaves the vhost when its plugin does.
    /// </summary>
    public bool Listed { get; private set; }

    /// <summary>The vhost's options for the protocol, kept to create the instances of later generations.</summary>
    public JsonElement? Options { get; private set; }

    /// <summary>A changed vhost definition gives the protocol other options or lists it (or stops listing it).</summary>
    public void Reconfigure(JsonElement? options, bool listed)
    {
        Options = options;
        Listed = listed;
    }

    /// <summary>The instance new sessions go to; <see langword="null"/> while the protocol is unavailable.</summary>
    public ProtocolInstance? Current => _current;

    public string? UnavailableReason => _unavailableReason;

    public bool IsAvailable => _current is not null;

    public string PluginId => _current?.PluginId ?? "";

    public int Generation => _current?.Generation ?? 0;

    /// <summary>Sessions on every instance, current and retiring.</summary>
    public int Sessions
    {
        get
        {
            lock (_gate)
            {
                return (_current?.Sessions ?? 0) + _retiring.Sum(i => i.Sessions);
            }
        }
    }

    /// <summary>
    /// Timed-out plugin callbacks across the instances the vhost has held: the live ones' counts plus those of instances
    /// already retired, so a reload does not reset the figure.
    /// </summary>
    public long CallbackTimeouts => Interlocked.Read(ref _retiredCallbackTimeouts) + Instances.Sum(i => i.CallbackTimeouts);

    /// <summary>Every instance the vhost still holds, current first.</summary>
    public IReadOnlyList<ProtocolInstance> Instances
    {
        get
        {
            lock (_gate)
            {
                return _current is { } current ? [current, .. _retiring] : [.. _retiring];
            }
        }
    }

    /// <summary>Makes <paramref name="next"/> the instance for new sessions and returns the previous one, now retiring.</summary>
    public ProtocolInstance? Replace(ProtocolInstance? next, string? unavailableReason)
    {
        lock (_gate)
        {
            var previous = _current;
            _current = next;
            _unavailableReason = next is null ? unavailableReason ?? "unavailable" : null;
            if (previous is not null)
            {
                _retiring.Add(previous);
            }

            return previous;
        }
    }

    /// <summary>Forgets a retired instance once it is disposed.</summary>
    public void Retired(ProtocolInstance instance)
    {
        lock (_gate)
        {
            if (_retiring.Remove(instance))
            {
                Interlocked.Add(ref _retiredCallbackTimeouts, instance.CallbackTimeouts);
            }
        }
    }
}
