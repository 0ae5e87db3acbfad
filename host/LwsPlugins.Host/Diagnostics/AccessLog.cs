using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// A vhost's access log (lws: <c>log_filepath</c>) in Apache combined format, written by one background writer so a
/// request never waits for the disk. WebSocket sessions are logged when they close, with a 101 status and extra
/// fields: protocol, duration and bytes each way.
/// </summary>
internal sealed class AccessLog : IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly StreamWriter _writer;
    private readonly Task _pump;

    public AccessLog(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        _pump = Task.Run(PumpAsync);
    }

    public void Request(string? remote, DateTimeOffset time, string method, string target, string protocol, int status, long? bytes, string? referer, string? userAgent)
        => _lines.Writer.TryWrite(Combined(remote, time, method, target, protocol, status, bytes, referer, userAgent));

    public void WebSocket(string? remote, DateTimeOffset openedAt, string target, string protocol, string? userAgent, string subprotocol, TimeSpan duration, long bytesIn, long bytesOut)
        => _lines.Writer.TryWrite(Combined(remote, openedAt, "GET", target, protocol, 101, bytesOut, null, userAgent)
            + string.Create(CultureInfo.InvariantCulture, $" ws=\"{Escape(subprotocol)}\" duration_ms={(long)duration.TotalMilliseconds} bytes_in={bytesIn} bytes_out={bytesOut}"));

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private static string Combined(string? remote, DateTimeOffset time, string method, string target, string protocol, int status, long? bytes, string? referer, string? userAgent)
    {
        var utc = time.ToUniversalTime();
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{remote ?? "-"} - - [{utc:dd/MMM/yyyy:HH:mm:ss} +0000] \"{Escape(method)} {Escape(target)} {Escape(protocol)}\" {status} {(bytes is > 0 ? bytes.Value.ToString(CultureInfo.InvariantCulture) : "-")} \"{Escape(referer ?? "-")}\" \"{Escape(userAgent ?? "-")}\"");
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private async Task PumpAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                await _writer.WriteLineAsync(line).ConfigureAwait(false);
            }

            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }
}
