namespace LwsPlugins.Host.Configuration;

/// <summary>A configuration is invalid; the message names the file or vhost, the key, and what is wrong.</summary>
public sealed class LwsConfigurationException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public LwsConfigurationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and where.</param>
    public LwsConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What is wrong and where.</param>
    /// <param name="innerException">The cause.</param>
    public LwsConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
