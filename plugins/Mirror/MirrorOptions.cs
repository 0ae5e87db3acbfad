namespace LwsPlugins.Plugins.Mirror;

/// <summary>Per-vhost options of <c>lws-mirror-protocol</c>.</summary>
public sealed class MirrorOptions
{
    /// <summary>How many named instances may exist at once on the vhost (lws 4.1.6 allows 3).</summary>
    public int MaxInstances { get; set; } = 1000;

    /// <summary>Whether a reload of the plugin moves the instances and their members to the new code (state hand-over).</summary>
    public bool KeepMembersOnReload { get; set; } = true;

    /// <summary>The longest accepted instance name, in characters (lws 4.1.6 never matches names over 28).</summary>
    public int MaxNameLength { get; set; } = 256;
}
