using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using LwsPlugins.Host.Listeners;

namespace LwsPlugins.Host.Tests.Listeners;

/// <summary>
/// The direct connections' reader on a real loopback socket pair: Pipe semantics (consumed and examined, waiting for
/// more, cancellation, the end), a buffer that grows for what is examined and not consumed, and none held while waiting.
/// Each test runs with the wake-up resumed inline and on the thread pool.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class SocketPipeReaderTests(bool resumeOnThreadPool)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private Socket _client = null!;
    private Socket _server = null!;
    private SocketPipeReader _reader = null!;

    [SetUp]
    public async Task Connect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await _client.ConnectAsync(listener.LocalEndPoint!);
        _server = await accepting;
        _server.Blocking = false;
        _reader = new SocketPipeReader(_server, resumeOnThreadPool);
    }

    [TearDown]
    public void Close()
    {
        _reader.Complete();
        _client.Dispose();
        _server.Dispose();
    }

    [Test]
    public async Task AReadWaitsForData_AndHoldsNoBufferWhileWaiting()
    {
        var reading = _reader.ReadAsync();
        Assert.That(reading.IsCompleted, Is.False, "nothing sent yet");
        Assert.That(_reader.HoldsBuffer, Is.False);

        await _client.SendAsync("hello"u8.ToArray());
        var result = await reading.AsTask().WaitAsync(Bound);

        Assert.That(Text(result.Buffer), Is.EqualTo("hello"));
        _reader.AdvanceTo(result.Buffer.End);
        Assert.That(_reader.HoldsBuffer, Is.False, "everything consumed: the buffer went back to the pool");
    }

    [Test]
    public async Task WhatIsExaminedButNotConsumed_ComesBackWithTheNextBytes()
    {
        await _client.SendAsync("ab"u8.ToArray());
        var first = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
        _reader.AdvanceTo(first.Buffer.GetPosition(1), first.Buffer.End);

        var waiting = _reader.ReadAsync();
        Assert.That(waiting.IsCompleted, Is.False, "all of what is buffered was examined: the read waits for more");
        await _client.SendAsync("cd"u8.ToArray());
        var second = await waiting.AsTask().WaitAsync(Bound);

        Assert.That(Text(second.Buffer), Is.EqualTo("bcd"));
    }

    [Test]
    public async Task WhatIsLeftUnexamined_IsReturnedAtOnce()
    {
        await _client.SendAsync("abc"u8.ToArray());
        var first = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
        _reader.AdvanceTo(first.Buffer.GetPosition(1));

        var second = _reader.ReadAsync();

        Assert.That(second.IsCompleted, Is.True);
        Assert.That(Text((await second).Buffer), Is.EqualTo("bc"));
    }

    [Test]
    public async Task ALargeMessageExaminedWhole_GrowsTheBuffer_UntilItHasArrived()
    {
        var payload = new byte[300 * 1024];
        new Random(7).NextBytes(payload);
        var sending = Task.Run(async () => await _client.SendAsync(payload));
        ReadResult result;
        while (true)
        {
            result = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
            if (result.Buffer.Length >= payload.Length)
            {
                break;
            }

            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        await sending.WaitAsync(Bound);
        Assert.That(result.Buffer.ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public async Task CancelPendingRead_EndsAWaitingRead_OrTheNextOne()
    {
        var waiting = _reader.ReadAsync();
        _reader.CancelPendingRead();
        Assert.That((await waiting.AsTask().WaitAsync(Bound)).IsCanceled, Is.True);

        _reader.CancelPendingRead();
        Assert.That((await _reader.ReadAsync().AsTask().WaitAsync(Bound)).IsCanceled, Is.True, "asked before the read: the read is canceled at once");

        await _client.SendAsync("after"u8.ToArray());
        var result = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.That(Text(result.Buffer), Is.EqualTo("after"), "the reader still reads after a cancellation");
    }

    [Test]
    public async Task ACanceledToken_EndsTheRead_AndTheNextReadGetsWhatCameMeanwhile()
    {
        using var cancel = new CancellationTokenSource();
        var waiting = _reader.ReadAsync(cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await waiting.AsTask().WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());

        await _client.SendAsync("later"u8.ToArray());
        var result = await _reader.ReadAsync().AsTask().WaitAsync(Bound);

        Assert.That(Text(result.Buffer), Is.EqualTo("later"));
    }

    [Test]
    public async Task ThePeersFin_CompletesTheReader_AfterItsLastBytes()
    {
        await _client.SendAsync("last"u8.ToArray());
        _client.Shutdown(SocketShutdown.Send);

        var result = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
        while (!result.IsCompleted)
        {
            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await _reader.ReadAsync().AsTask().WaitAsync(Bound);
        }

        Assert.That(Text(result.Buffer), Is.EqualTo("last"));
    }

    [Test]
    public async Task APeersReset_FailsTheWaitingRead()
    {
        var waiting = _reader.ReadAsync();
        _client.LingerState = new LingerOption(true, 0);
        _client.Close();

        Assert.That(async () => await waiting.AsTask().WaitAsync(Bound), Throws.InstanceOf<IOException>());
    }

    [Test]
    public async Task TheSocketClosedUnderAWaitingRead_FailsTheRead_AndTheNextOneSeesTheEnd()
    {
        var waiting = _reader.ReadAsync();
        _server.Dispose();

        Assert.That(async () => await waiting.AsTask().WaitAsync(Bound), Throws.InstanceOf<IOException>());
        Assert.That((await _reader.ReadAsync().AsTask().WaitAsync(Bound)).IsCompleted, Is.True, "the failure is told once; after it the reader is at its end");
    }

    private static string Text(ReadOnlySequence<byte> buffer) => System.Text.Encoding.ASCII.GetString(buffer.ToArray());
}
