namespace LwsPlugins.Host.Configuration;

/// <summary>What happens to a vhost's sessions on the old generation when their plugin is reloaded.</summary>
public enum PluginReloadPolicy
{
    /// <summary>Old sessions stay on the old code until they close, up to the drain timeout, then close with 1012.</summary>
    Drain,

    /// <summary>Old sessions are closed at once with 1012 (Service Restart) so clients reconnect to the new code.</summary>
    Restart,
}
