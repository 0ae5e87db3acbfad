namespace LwsPlugins.Host.Vhosts;

/// <summary>Where a vhost is in its life.</summary>
internal enum VhostState
{
    Serving,
    Destroying,
}
