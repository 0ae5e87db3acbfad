namespace LwsPluginTemplate;

/// <summary>The protocol's options: the manifest's <c>"options"</c>, overlaid with a vhost's settings for the protocol.</summary>
public sealed class LwsPluginTemplateOptions
{
    /// <summary>The longest <see cref="Prefix"/> accepted.</summary>
    public const int MaxPrefixLength = 100;

    /// <summary>Put before every echoed text message.</summary>
    public string Prefix { get; set; } = "";
}
