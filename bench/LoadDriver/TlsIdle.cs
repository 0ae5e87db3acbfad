using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace LoadDriver;

/// <summary>
/// Idle capacity over TLS: K `wss://` mirror members that never send (SslStream clients that accept the servers' test
/// certificates), the server's RSS from /proc, as <see cref="Idle"/> does over plaintext.
/// </summary>
internal static class TlsIdle
{
    public static async Task<Idle.Result> RunAsync(ServerProcess server, IReadOnlyList<int> steps, TimeSpan settle)
    {
        var warm = await OpenAsync(server, 0, 200, new int[200]);
        foreach (var c in warm.Clients)
        {
            c.Dispose();
        }

        await Task.WhenAll(warm.Loops);
        await Task.Delay(settle);
        var baseline = server.RssBytes();
        var clients = new List<SslStream>();
        var loops = new List<Task>();
        var received = new int[steps[^1]];
        var failed = 0;
        var results = new List<Idle.Step>();
        var driverCpu0 = ProcCpu.Self();
        var connectTime = TimeSpan.Zero;
        foreach (var target in steps)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var opened = await OpenAsync(server, clients.Count, target - clients.Count, received);
            connectTime += watch.Elapsed;
            clients.AddRange(opened.Clients);
            loops.AddRange(opened.Loops);
            failed += opened.Failed;
            await Task.Delay(settle);
            var open = clients.Count - loops.Count(l => l.IsCompleted);
            var rss = server.RssBytes();
            results.Add(new Idle.Step(target, open, rss, (rss - baseline) / 1024.0 / Math.Max(open, 1)));
            Console.Error.WriteLine($"  idle-tls {server.Name}: {open} open, RSS {rss / 1048576.0:F1} MiB");
        }

        var driverCpu = ProcCpu.Self() - driverCpu0;

        // Held: one masked text frame from the first member reaches every member still open.
        byte[] frame = [0x81, 0x85, 1, 2, 3, 4, (byte)('h' ^ 1), (byte)('e' ^ 2), (byte)('l' ^ 3), (byte)('d' ^ 4), (byte)('?' ^ 1)];
        await clients[0].WriteAsync(frame);
        await clients[0].FlushAsync();
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (received.Count(r => r > 0) < clients.Count && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }

        var held = received.Count(r => r > 0);
        foreach (var c in clients)
        {
            c.Dispose();
        }

        await Task.WhenAll(loops);
        return new Idle.Result(baseline, results, failed, held, steps[^1], connectTime.TotalSeconds, 100 * driverCpu / Math.Max(connectTime.TotalSeconds, 1e-9));
    }

    private static async Task<(List<SslStream> Clients, List<Task> Loops, int Failed)> OpenAsync(ServerProcess server, int first, int count, int[] received)
    {
        var clients = new SslStream?[count];
        var failed = 0;
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                clients[i] = await ConnectAsync(server.EndPoint, Sources.For(first + i));
            }
            catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException)
            {
                if (Interlocked.Increment(ref failed) <= 3)
                {
                    Console.Error.WriteLine($"  idle-tls {server.Name}: connect failed: {ex.Message}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        var list = new List<SslStream>();
        var loops = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            if (clients[i] is { } client)
            {
                var slot = first + i;
                list.Add(client);
                loops.Add(Task.Run(async () =>
                {
                    var buffer = new byte[256];
                    try
                    {
                        while (await client.ReadAsync(buffer) > 0)
                        {
                            if (slot < received.Length)
                            {
                                Interlocked.Increment(ref received[slot]);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                    {
                    }
                }));
            }
        }

        return (list, loops, failed);
    }

    private static async Task<SslStream> ConnectAsync(IPEndPoint server, IPAddress source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(server);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [SslApplicationProtocol.Http11],
#pragma warning disable CA5359 // A benchmark client of two local test servers with self-signed test certificates.
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
            });
            var request = Encoding.ASCII.GetBytes(
                $"GET /?mirror=idle HTTP/1.1\r\nHost: localhost:{server.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
            await tls.WriteAsync(request);
            var head = new byte[1024];
            var length = 0;
            while (head.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
            {
                var read = await tls.ReadAsync(head.AsMemory(length));
                if (read == 0 || (length += read) == head.Length)
                {
                    throw new IOException("no complete response to the upgrade");
                }
            }

            if (!head.AsSpan(0, length).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("not upgraded: " + Encoding.ASCII.GetString(head, 0, Math.Min(length, 40)));
            }

            return tls;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
