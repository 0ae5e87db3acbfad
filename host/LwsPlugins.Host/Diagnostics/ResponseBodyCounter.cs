using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// Counts the response body bytes for the access log, whichever way they are written (stream, pipe, send-file), so a
/// chunked response from a callback mount logs its real size and not the absent Content-Length. Installed only on
/// vhosts that keep an access log; each way forwards to Kestrel's own feature.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The counting stream owns nothing: Kestrel's body stream lives with the request.")]
internal sealed class ResponseBodyCounter : IHttpResponseBodyFeature
{
    private readonly IHttpResponseBodyFeature _inner;
    private readonly CountingStream _stream;
    private readonly CountingPipeWriter _writer;
    private long _sentFile;

    private ResponseBodyCounter(IHttpResponseBodyFeature inner)
    {
        _inner = inner;
        _stream = new CountingStream(inner.Stream);
        _writer = new CountingPipeWriter(inner.Writer);
    }

    public long Written => _stream.Written + _writer.Written + Interlocked.Read(ref _sentFile);

    public Stream Stream => _stream;

    public PipeWriter Writer => _writer;

    public static ResponseBodyCounter? Install(HttpContext context)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is not { } inner)
        {
            return null;
        }

        var counter = new ResponseBodyCounter(inner);
        context.Features.Set<IHttpResponseBodyFeature>(counter);
        return counter;
    }

    public Task CompleteAsync() => _inner.CompleteAsync();

    public void DisableBuffering() => _inner.DisableBuffering();

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        await _inner.SendFileAsync(path, offset, count, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _sentFile, count ?? new FileInfo(path).Length - offset);
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    private sealed class CountingPipeWriter(PipeWriter inner) : PipeWriter
    {
        private long _written;

        public long Written => Interlocked.Read(ref _written);

        public override void Advance(int bytes)
        {
            Interlocked.Add(ref _written, bytes);
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _written, source.Length);
            return inner.WriteAsync(source, cancellationToken);
        }
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _written;

        public long Written => Interlocked.Read(ref _written);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Add(ref _written, count);
            inner.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _written, buffer.Length);
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
