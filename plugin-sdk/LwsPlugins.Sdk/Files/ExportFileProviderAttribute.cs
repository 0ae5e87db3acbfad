using System.Composition;

namespace LwsPlugins.Sdk.Files;

/// <summary>
/// Exports a class as a provider of the server's virtual file system under a path prefix. The host discovers these
/// exports with System.Composition, as it does protocols.
/// </summary>
/// <remarks>The class must implement <see cref="IFileProviderPlugin"/> and have a public parameterless constructor.</remarks>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ExportFileProviderAttribute : ExportAttribute
{
    /// <summary>Exports the attributed class as the provider of <paramref name="prefix"/>.</summary>
    /// <param name="prefix">The VFS prefix: starts with <c>/</c>, does not end with one, e.g. <c>/bundle</c>; as declared in the manifest.</param>
    public ExportFileProviderAttribute(string prefix)
        : base(typeof(IFileProviderPlugin))
    {
        Prefix = prefix;
    }

    /// <summary>The VFS prefix the provider serves.</summary>
    public string Prefix { get; }
}
