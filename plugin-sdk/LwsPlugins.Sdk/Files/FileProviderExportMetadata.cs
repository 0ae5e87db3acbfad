namespace LwsPlugins.Sdk.Files;

/// <summary>
/// The metadata view of an <see cref="ExportFileProviderAttribute"/> export, as the host reads it.
/// Plugin authors do not use this type directly.
/// </summary>
public sealed class FileProviderExportMetadata
{
    /// <summary>The VFS prefix.</summary>
    public string Prefix { get; set; } = "";
}
