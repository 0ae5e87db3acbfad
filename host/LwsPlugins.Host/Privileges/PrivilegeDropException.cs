namespace LwsPlugins.Host.Privileges;

/// <summary>The process could not drop to the configured user and group; fatal, the server must not go on.</summary>
public sealed class PrivilegeDropException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public PrivilegeDropException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which call failed, for which ids, and why.</param>
    public PrivilegeDropException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">Which call failed, for which ids, and why.</param>
    /// <param name="innerException">The cause.</param>
    public PrivilegeDropException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
