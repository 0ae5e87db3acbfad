using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// Checks of a plugin's files made before anything of it is loaded: no private copy of an assembly the host shares, and
/// a plugin assembly built against an SDK this host can serve (read with System.Reflection.Metadata, not loaded).
/// </summary>
internal static class PluginAssemblyChecks
{
    /// <summary>The file names of the assemblies the host shares with every plugin (the SDK and the abstractions it exposes).</summary>
    public static IReadOnlyList<string> SharedFileNames { get; } =
        [.. SharedAssemblies.Types.Select(t => t.Assembly.GetName().Name + ".dll").Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The SDK assembly version of this host; plugins may reference any version up to it within its major.</summary>
    public static Version HostSdkAssemblyVersion { get; } = typeof(IProtocolPlugin).Assembly.GetName().Version!;

    private static string SdkName => typeof(IProtocolPlugin).Assembly.GetName().Name!;

    /// <summary>Runs every check.</summary>
    /// <exception cref="PluginLoadException">A check failed; the message names the file and the fix.</exception>
    public static void Check(PluginManifest manifest)
    {
        CheckNoSharedCopies(manifest.Directory);
        CheckSdkReference(manifest.AssemblyPath);
    }

    /// <summary>Refuses a plugin folder that carries its own copy of a shared assembly.</summary>
    /// <exception cref="PluginLoadException">The folder holds such a copy; the message names the file.</exception>
    public static void CheckNoSharedCopies(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*.dll", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (SharedFileNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw PluginLoadException.At(
                    file,
                    null,
                    $"the plugin carries its own copy of {name}, which the host shares with every plugin; a private copy gives the plugin other types " +
                    "than the host's (InvalidCastException, or no exports found). Fix: reference the LwsPlugins.Sdk NuGet package, whose build targets " +
                    "keep the SDK and the shared assemblies out of the output (for a project reference to the SDK: Private=\"false\" ExcludeAssets=\"runtime\"), " +
                    "then redeploy; or delete the file.");
            }
        }
    }

    /// <summary>Refuses a plugin assembly that references a newer SDK than the host's.</summary>
    /// <exception cref="PluginLoadException">It was built against a newer SDK major (or a newer assembly version); the message names the file and the fix.</exception>
    public static void CheckSdkReference(string assemblyPath)
    {
        var referenced = ReadSdkReference(assemblyPath);
        if (referenced is null || referenced <= HostSdkAssemblyVersion)
        {
            return;
        }

        var host = HostSdkAssemblyVersion;
        var hostPackage = PluginManifestReader.HostSdkVersion;
        if (referenced.Major > host.Major)
        {
            throw PluginLoadException.At(
                assemblyPath,
                null,
                $"built against {SdkName} {referenced.Major}.x (assembly version {referenced}), a newer major than this host's SDK {hostPackage} " +
                $"(assembly version {host}). Fix: rebuild the plugin against {SdkName} {host.Major}.x (e.g. <PackageReference Include=\"{SdkName}\" " +
                $"Version=\"{hostPackage}\" />, and \"sdk\": \"[{host.Major}.0.0, {host.Major + 1}.0.0)\" in the manifest), or run it on a host with SDK {referenced.Major}.x.");
        }

        throw PluginLoadException.At(
            assemblyPath,
            null,
            $"references {SdkName} assembly version {referenced}, newer than this host's {host} (SDK {hostPackage}); within a major version the SDK's " +
            $"assembly version stays {host.Major}.0.0.0, so this SDK build is not an official one. Fix: rebuild the plugin against the {SdkName} package {hostPackage} or another {host.Major}.x release.");
    }

    /// <summary>
    /// The version of the SDK assembly the plugin assembly references, or <see langword="null"/> when it references none
    /// or is not a readable .NET assembly (loading it then reports that, as for any broken assembly).
    /// </summary>
    public static Version? ReadSdkReference(string assemblyPath)
    {
        try
        {
            using var stream = File.OpenRead(assemblyPath);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return null;
            }

            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.AssemblyReferences)
            {
                var reference = metadata.GetAssemblyReference(handle);
                if (metadata.StringComparer.Equals(reference.Name, SdkName))
                {
                    return reference.Version;
                }
            }

            return null;
        }
        catch (BadImageFormatException)
        {
            return null;
        }
    }
}
