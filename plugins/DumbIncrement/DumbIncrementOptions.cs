namespace LwsPlugins.Plugins.DumbIncrement;

/// <summary>Per-vhost options of <c>dumb-increment-protocol</c>.</summary>
public sealed class DumbIncrementOptions
{
    /// <summary>Milliseconds between two counter values; lws sends one every 50 ms.</summary>
    public int IntervalMs { get; set; } = 50;
}
