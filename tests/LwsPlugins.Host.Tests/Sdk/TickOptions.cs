namespace LwsPlugins.Host.Tests.Sdk;

/// <summary>Options of the test protocol used by the SDK and protocol-context tests.</summary>
public sealed class TickOptions
{
    public int IntervalMs { get; set; } = 1000;

    public string Greeting { get; set; } = "hello";

    public int MaxItems { get; set; } = 10;

    public IList<string> Tags { get; set; } = [];
}
