using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vfs;

/// <summary>The VFS providers a configuration lists (<c>fileProviders</c>: folders and zip archives), added at start.</summary>
internal static class ConfiguredFileProviders
{
    /// <summary>Adds every listed provider to <paramref name="vfs"/>; what must be disposed with the context goes to <paramref name="owned"/>.</summary>
    /// <exception cref="LwsConfigurationException">A provider is invalid or its folder or archive cannot be served.</exception>
    public static void AddTo(VirtualFileSystem vfs, IList<FileProviderOptions> providers, string baseDirectory, List<IDisposable> owned, ILogger logger)
    {
        var errors = FileProviderOptionsValidator.Validate(providers);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        for (var i = 0; i < providers.Count; i++)
        {
            var options = providers[i];
            IFileProvider provider;
            if (options.Zip is { } zip)
            {
                var path = Path.GetFullPath(Path.Combine(baseDirectory, zip));
                ZipFileProvider archive;
                try
                {
                    archive = new ZipFileProvider(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    throw new LwsConfigurationException($"fileProviders[{i}].zip: cannot serve '{path}': {ex.Message}", ex);
                }

                if (archive.Skipped > 0)
                {
                    Log.ZipEntriesSkipped(logger, path, archive.Skipped);
                }

                Log.FileProviderAdded(logger, options.Prefix, "zip", path);
                provider = archive;
            }
            else
            {
                var folder = Path.GetFullPath(Path.Combine(baseDirectory, options.Folder!));
                if (!Directory.Exists(folder))
                {
                    throw new LwsConfigurationException($"fileProviders[{i}].folder: folder '{folder}' does not exist.");
                }

                var physical = new ConfinedPhysicalFileProvider(folder);
                owned.Add(physical);
                Log.FileProviderAdded(logger, options.Prefix, "folder", folder);
                provider = physical;
            }

            vfs.Add(options.Prefix, provider);
        }
    }
}
