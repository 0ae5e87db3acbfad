namespace LwsPlugins.Sdk;

/// <summary>Thrown when a vhost's options for a protocol are invalid; the message names what is wrong.</summary>
public sealed class ProtocolOptionsException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public ProtocolOptionsException()
    {
    }

    /// <summary>Creates the exception with a message naming the invalid option.</summary>
    /// <param name="message">What is wrong.</param>
    public ProtocolOptionsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ProtocolOptionsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
