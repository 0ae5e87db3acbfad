namespace LwsPlugins.Host.Plugins;

/// <summary>A plugin cannot be loaded; the message names the file, the field when there is one, and the reason.</summary>
public sealed class PluginLoadException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public PluginLoadException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public PluginLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public PluginLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static PluginLoadException At(string path, string? field, string reason, Exception? inner = null)
    {
        var message = field is null ? $"{path}: {reason}" : $"{path}: {field}: {reason}";
        return inner is null ? new PluginLoadException(message) : new PluginLoadException(message, inner);
    }
}
