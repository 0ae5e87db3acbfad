using System.Security.Cryptography;
using System.Text;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// A hash of every file in a plugin folder (names and contents), so that a build that rewrites identical files, or a
/// second change notification for the same deploy, never loads a generation twice.
/// </summary>
internal static class PluginFolderHash
{
    public static string Compute(string directory)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, file) + "\n"));
            hash.AppendData(File.ReadAllBytes(file));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
