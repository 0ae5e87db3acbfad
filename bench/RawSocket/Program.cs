// The floor of a transport of our own (issue 21, item 5): what one idle WebSocket costs when a server holds nothing but
// the accepted Socket and one parked zero-byte receive per connection (no Kestrel connection, no pipes, no
// ManagedWebSocket, no session object beyond a few fields), measured with the same driver as our server:
//   dotnet bench/LoadDriver/bin/Release/net10.0/LoadDriver.dll --ours bench/RawSocket/bin/Release/net10.0/raw-socket --scenarios idle
// It is a measuring device, not a server: it answers any request with a 101 (the driver's handshakes are well formed),
// reads frames only whole within one receive, broadcasts a text message to every connection (the driver's "held"
// check) and echoes a close. It takes the driver's `-p <port> -i <address>` and ignores the rest.
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

var port = 7681;
var address = IPAddress.Loopback;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "-p": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "-i": address = IPAddress.Parse(args[i + 1]); break;
    }
}

var connections = new ConcurrentDictionary<Connection, byte>();
using var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(address, port));
listener.Listen(4096);
Console.WriteLine($"raw-socket listening on {listener.LocalEndPoint}");
while (true)
{
    var socket = await listener.AcceptAsync();
    socket.NoDelay = true;
    var connection = new Connection(socket, connections);
    _ = connection.RunAsync();
}

internal sealed class Connection(Socket socket, ConcurrentDictionary<Connection, byte> all)
{
    private static readonly byte[] s_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    private Socket Socket => socket;

    public async Task RunAsync()
    {
        try
        {
            if (!await HandshakeAsync())
            {
                return;
            }

            all.TryAdd(this, 0);
            while (true)
            {
                // Idle: one zero-byte receive parked on the socket; a buffer only once data is there.
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                    if (read == 0 || !Frames(buffer.AsSpan(0, read)))
                    {
                        return;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (SocketException)
        {
        }
        finally
        {
            all.TryRemove(this, out _);
            socket.Dispose();
        }
    }

    private async Task<bool> HandshakeAsync()
    {
        var head = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (head.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
            {
                var read = await socket.ReceiveAsync(head.AsMemory(length), SocketFlags.None);
                if (read == 0 || (length += read) == head.Length)
                {
                    return false;
                }
            }

            var text = Encoding.ASCII.GetString(head, 0, length);
            var key = Header(text, "Sec-WebSocket-Key") ?? "";
            var protocol = Header(text, "Sec-WebSocket-Protocol")?.Split(',')[0].Trim();
            var accept = Convert.ToBase64String(SHA1.HashData([.. Encoding.ASCII.GetBytes(key), .. s_guid]));
            var response = $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n"
                + (protocol is null ? "" : $"Sec-WebSocket-Protocol: {protocol}\r\n") + "\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    private static string? Header(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    /// <summary>Whole masked client frames in one receive: text/binary broadcast, close echoed (then false).</summary>
    private bool Frames(Span<byte> data)
    {
        while (data.Length >= 6)
        {
            var opcode = data[0] & 0x0F;
            var length = data[1] & 0x7F;
            var offset = 2;
            if (length == 126)
            {
                length = (data[2] << 8) | data[3];
                offset = 4;
            }

            if (length > 125 && offset == 2 || data.Length < offset + 4 + length)
            {
                return true;
            }

            var mask = data.Slice(offset, 4);
            var payload = data.Slice(offset + 4, length);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i % 4];
            }

            if (opcode == 0x8)
            {
                byte[] close = [0x88, (byte)Math.Min(payload.Length, 125), .. payload[..Math.Min(payload.Length, 125)]];
                socket.Send(close);
                return false;
            }

            if (opcode is 0x1 or 0x2)
            {
                byte[] frame = length <= 125 ? [0x81, (byte)length, .. payload] : [0x81, 126, (byte)(length >> 8), (byte)length, .. payload];
                foreach (var other in all.Keys)
                {
                    try
                    {
                        other.Socket.Send(frame);
                    }
                    catch (SocketException)
                    {
                    }
                }
            }

            data = data[(offset + 4 + length)..];
        }

        return true;
    }
}
