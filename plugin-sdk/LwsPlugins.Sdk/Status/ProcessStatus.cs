namespace LwsPlugins.Sdk.Status;

/// <summary>The server process at one moment.</summary>
public sealed class ProcessStatus
{
    /// <summary>CPU time the process has used, in seconds (user and kernel).</summary>
    public required double CpuSeconds { get; init; }

    /// <summary>Resident set size, in bytes.</summary>
    public required long WorkingSetBytes { get; init; }

    /// <summary>Bytes of the managed heap in use.</summary>
    public required long GcHeapBytes { get; init; }

    /// <summary>Garbage collections so far, by generation 0, 1 and 2.</summary>
    public required IReadOnlyList<int> GcCollections { get; init; }

    /// <summary>Threads in the process.</summary>
    public required int Threads { get; init; }
}
