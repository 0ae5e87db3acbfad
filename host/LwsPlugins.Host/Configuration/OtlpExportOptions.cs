namespace LwsPlugins.Host.Configuration;

/// <summary>Where and how often metrics are exported with OpenTelemetry's OTLP exporter.</summary>
public sealed class OtlpExportOptions
{
    /// <summary>The collector's endpoint, e.g. <c>http://127.0.0.1:4317</c> (gRPC) or <c>http://127.0.0.1:4318/v1/metrics</c> (HTTP).</summary>
    public string Endpoint { get; set; } = "";

    /// <summary><c>grpc</c> (default) or <c>httpProtobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Milliseconds between two exports.</summary>
    public int ExportIntervalMs { get; set; } = 10_000;
}
