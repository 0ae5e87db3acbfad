namespace LwsPlugins.Host.Configuration;

/// <summary>What the server does when its Redis backplane cannot be reached at start.</summary>
public enum BackplaneStartFailure
{
    /// <summary>The server does not start; the error names the endpoint and the reason.</summary>
    Fail,

    /// <summary>The server starts with local fan-out only, shows the backplane down, and connects as soon as Redis is reachable.</summary>
    LocalOnly,
}
