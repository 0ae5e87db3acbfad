using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace LwsPlugins.Host.Tests.Plugins;

/// <summary>Writes a minimal .NET assembly (metadata only) that references LwsPlugins.Sdk at a chosen version.</summary>
internal static class TestAssemblyWriter
{
    public static void Write(string path, Version? sdkVersion)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var metadata = new MetadataBuilder();
        metadata.AddModule(0, metadata.GetOrAddString(name + ".dll"), metadata.GetOrAddGuid(Guid.NewGuid()), default, default);
        metadata.AddAssembly(metadata.GetOrAddString(name), new Version(1, 0, 0, 0), default, default, default, AssemblyHashAlgorithm.Sha1);
        if (sdkVersion is not null)
        {
            metadata.AddAssemblyReference(metadata.GetOrAddString("LwsPlugins.Sdk"), sdkVersion, default, default, default, default);
        }

        metadata.AddTypeDefinition(
            default,
            default,
            metadata.GetOrAddString("<Module>"),
            default,
            MetadataTokens.FieldDefinitionHandle(1),
            MetadataTokens.MethodDefinitionHandle(1));
        var pe = new ManagedPEBuilder(PEHeaderBuilder.CreateLibraryHeader(), new MetadataRootBuilder(metadata), new BlobBuilder());
        var blob = new BlobBuilder();
        pe.Serialize(blob);
        File.WriteAllBytes(path, blob.ToArray());
    }
}
