namespace LwsPlugins.Host.Configuration;

/// <summary>Checks the server's VFS providers; every error names the key.</summary>
internal static class FileProviderOptionsValidator
{
    public static IReadOnlyList<string> Validate(IList<FileProviderOptions>? providers)
    {
        var errors = new List<string>();
        if (providers is null)
        {
            errors.Add("fileProviders: must be an array, not null.");
            return errors;
        }

        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < providers.Count; i++)
        {
            var provider = providers[i];
            var key = $"fileProviders[{i}]";
            if (provider is null)
            {
                errors.Add($"{key}: must be an object, not null.");
                continue;
            }

            if (!Vfs.VfsPath.IsValidPrefix(provider.Prefix))
            {
                errors.Add($"{key}.prefix: must start with '/', not end with '/' (except '/' itself) and have no '.', '..' or empty segments, was '{provider.Prefix}'.");
            }
            else if (!prefixes.Add(provider.Prefix))
            {
                errors.Add($"{key}.prefix: '{provider.Prefix}' is used by two providers.");
            }

            var hasZip = !string.IsNullOrWhiteSpace(provider.Zip);
            var hasFolder = !string.IsNullOrWhiteSpace(provider.Folder);
            if (hasZip == hasFolder)
            {
                errors.Add($"{key}: needs exactly one of \"zip\" (a .zip file) and \"folder\" (a folder).");
            }
        }

        return errors;
    }
}
