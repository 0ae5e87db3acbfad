using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// A vhost's access log (lws: <c>log_filepath</c>) in Apache combined format, written by one background writer so a
/// request never waits for the disk. The request target is the one the client sent (escaped as sent, not decoded or
/// normalised); the size is the response body's bytes, <c>0</c> when there were none (as lws writes it, Apache's
/// <c>%B</c>, not <c>%b</c>'s <c>-</c>). WebSocket sessions are logged when they close, with a 101 status and extra
/// fields: protocol, duration and bytes each way. A line that finds the queue full is dropped and counted
/// (<c>lws.access_log.dropped</c>). Rotation, when asked for: at the first line of a new UTC day, or before a line
/// that would take the file past a size; <c>access.log</c> becomes <c>access.log.1</c>, older ones move up, the
/// oldest past the number kept is deleted.
/// </summary>
internal sealed class AccessLog : IAsyncDisposable
{
    private readonly Channel<(string Line, DateTimeOffset Time)> _lines;
    private readonly string _path;
    private readonly AccessLogRotation _rotation;
    private readonly Counter<long>? _dropped;
    private readonly KeyValuePair<string, object?> _vhostTag;
    private readonly Task _pump;
    private StreamWriter _writer;
    private long _size;
    private DateOnly? _day;
    private long _droppedCount;

    public AccessLog(string path, AccessLogRotation rotation, Counter<long>? dropped, string vhost)
        : this(path, rotation, dropped, vhost, capacity: 10_000, startGate: null)
    {
    }

    /// <summary>Tests hold the writer at <paramref name="startGate"/> to fill a small queue deterministically.</summary>
    internal AccessLog(string path, AccessLogRotation rotation, Counter<long>? dropped, string vhost, int capacity, Task? startGate)
    {
        _path = Path.GetFullPath(path);
        _rotation = rotation;
        _dropped = dropped;
        _vhostTag = new("vhost", vhost);
        _lines = Channel.CreateBounded<(string, DateTimeOffset)>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _writer = Open();
        if (File.Exists(_path))
        {
            _day = DateOnly.FromDateTime(File.GetLastWriteTimeUtc(_path));
        }

        _pump = Task.Run(async () =>
        {
            if (startGate is not null)
            {
                await startGate.ConfigureAwait(false);
            }

            await PumpAsync().ConfigureAwait(false);
        });
    }

    /// <summary>Lines dropped because the writer fell 10,000 lines behind.</summary>
    public long Dropped => Interlocked.Read(ref _droppedCount);

    public void Request(string? remote, DateTimeOffset time, string method, string target, string protocol, int status, long bytes, string? referer, string? userAgent)
        => Write(Combined(remote, time, method, target, protocol, status, bytes, referer, userAgent), time);

    public void WebSocket(string? remote, DateTimeOffset openedAt, DateTimeOffset closedAt, string target, string protocol, string? userAgent, string subprotocol, long bytesIn, long bytesOut)
        => Write(
            Combined(remote, openedAt, "GET", target, protocol, 101, bytesOut, null, userAgent)
            + string.Create(CultureInfo.InvariantCulture, $" ws=\"{Escape(subprotocol)}\" duration_ms={(long)(closedAt - openedAt).TotalMilliseconds} bytes_in={bytesIn} bytes_out={bytesOut}"),
            closedAt);

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private void Write(string line, DateTimeOffset time)
    {
        if (!_lines.Writer.TryWrite((line, time)))
        {
            Interlocked.Increment(ref _droppedCount);
            _dropped?.Add(1, _vhostTag);
        }
    }

    private static string Combined(string? remote, DateTimeOffset time, string method, string target, string protocol, int status, long bytes, string? referer, string? userAgent)
    {
        var utc = time.ToUniversalTime();
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{remote ?? "-"} - - [{utc:dd/MMM/yyyy:HH:mm:ss} +0000] \"{Escape(method)} {Escape(target)} {Escape(protocol)}\" {status} {bytes} \"{Escape(referer ?? "-")}\" \"{Escape(userAgent ?? "-")}\"");
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private StreamWriter Open()
    {
        var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _size = stream.Length;
        return new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private async Task PumpAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var entry))
            {
                var day = DateOnly.FromDateTime(entry.Time.UtcDateTime);
                var length = Encoding.UTF8.GetByteCount(entry.Line) + 1;
                if (_size > 0 && ((_rotation.Daily && _day is { } last && day > last) || (_rotation.MaxBytes > 0 && _size + length > _rotation.MaxBytes)))
                {
                    await RotateAsync().ConfigureAwait(false);
                }

                _day = day;
                _size += length;
                await _writer.WriteAsync(entry.Line).ConfigureAwait(false);
                await _writer.WriteAsync('\n').ConfigureAwait(false);
            }

            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }

    private async Task RotateAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        var keep = Math.Max(1, _rotation.KeepFiles);
        File.Delete($"{_path}.{keep}");
        for (var i = keep - 1; i >= 1; i--)
        {
            if (File.Exists($"{_path}.{i}"))
            {
                File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
            }
        }

        File.Move(_path, _path + ".1");
        _writer = Open();
    }
}

/// <summary>When a vhost's access log starts a new file; nothing rotates by default (logrotate's <c>copytruncate</c> works too).</summary>
internal readonly record struct AccessLogRotation(bool Daily, long MaxBytes, int KeepFiles);
