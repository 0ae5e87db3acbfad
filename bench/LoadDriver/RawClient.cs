using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoadDriver;

/// <summary>
/// A minimal RFC 6455 client over a raw socket, so the driver spends as little CPU per message as possible: one
/// upgrade request, masked text frames out, unmasked frames parsed in place from one receive buffer.
/// </summary>
internal sealed class RawClient : IDisposable
{
    private const int IpBindAddressNoPort = 24;
    private static readonly byte[] s_closeFrame = [0x88, 0x82, 0x11, 0x22, 0x33, 0x44, 0x03 ^ 0x11, 0xE8 ^ 0x22];

    private readonly Socket _socket;
    private readonly byte[] _rx;
    private byte[] _tx = new byte[256];
    private readonly byte[] _mask = new byte[4];
    private int _rxStart;
    private int _rxEnd;

    private RawClient(Socket socket, int receiveBufferSize)
    {
        _socket = socket;
        _rx = new byte[receiveBufferSize];
        Random.Shared.NextBytes(_mask);
    }

    public static async Task<RawClient> ConnectAsync(
        IPEndPoint server, IPAddress? source, string pathAndQuery, string protocol, int receiveBufferSize, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                // Many source addresses on 127/8, and the port chosen at connect time: no ephemeral port exhaustion.
                socket.SetRawSocketOption(0 /* IPPROTO_IP */, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(server, ct);
            var client = new RawClient(socket, receiveBufferSize);
            await client.UpgradeAsync(server, pathAndQuery, protocol, ct);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Socket Socket => _socket;

    private async Task UpgradeAsync(IPEndPoint server, string pathAndQuery, string protocol, CancellationToken ct)
    {
        var request = Encoding.ASCII.GetBytes(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n");
        await _socket.SendAsync(request, SocketFlags.None, ct);
        while (true)
        {
            var read = await _socket.ReceiveAsync(_rx.AsMemory(_rxEnd), SocketFlags.None, ct);
            if (read == 0)
            {
                throw new IOException("connection closed during the upgrade");
            }

            _rxEnd += read;
            var end = _rx.AsSpan(0, _rxEnd).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                if (_rxEnd == _rx.Length)
                {
                    throw new IOException("upgrade response too large");
                }

                continue;
            }

            if (!_rx.AsSpan(0, _rxEnd).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("upgrade refused: " + Encoding.ASCII.GetString(_rx, 0, Math.Min(_rxEnd, 80)));
            }

            _rxStart = end + 4;
            Compact();
            return;
        }
    }

    /// <summary>Builds one masked text frame (payload up to 65,535 bytes) in the client's send buffer.</summary>
    public ReadOnlySpan<byte> BuildTextFrame(ReadOnlySpan<byte> payload)
    {
        var header = payload.Length <= 125 ? 2 : 4;
        if (_tx.Length < header + 4 + payload.Length)
        {
            _tx = new byte[header + 4 + payload.Length];
        }

        var frame = _tx.AsSpan();
        frame[0] = 0x81;
        if (header == 2)
        {
            frame[1] = (byte)(0x80 | payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], checked((ushort)payload.Length));
        }

        _mask.CopyTo(frame[header..]);
        var body = header + 4;
        for (var i = 0; i < payload.Length; i++)
        {
            frame[body + i] = (byte)(payload[i] ^ _mask[i & 3]);
        }

        return frame[..(body + payload.Length)];
    }

    /// <summary>Sends a close frame (1000).</summary>
    public ValueTask<int> SendCloseAsync() => _socket.SendAsync(s_closeFrame.AsMemory(), SocketFlags.None);

    /// <summary>
    /// Reads frames until the connection ends or a close frame arrives, calling <paramref name="onText"/> for every
    /// data frame. Returns true when the server sent a close frame, false when the connection just ended.
    /// </summary>
    public async Task<bool> ReceiveLoopAsync(Func<ReadOnlyMemory<byte>, bool> onText, CancellationToken ct)
    {
        while (true)
        {
            while (TryParse(out var opcode, out var payload))
            {
                if (opcode == 0x8)
                {
                    return true;
                }

                if (opcode is 0x1 or 0x2 or 0x0 && !onText(payload))
                {
                    return false;
                }
            }

            Compact();
            int read;
            try
            {
                read = await _socket.ReceiveAsync(_rx.AsMemory(_rxEnd), SocketFlags.None, ct);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return false;
            }

            if (read == 0)
            {
                return false;
            }

            _rxEnd += read;
        }
    }

    /// <summary>Waits for the server to end the connection after a close frame (echoed close, then FIN).</summary>
    public async Task<bool> DrainUntilClosedAsync(CancellationToken ct)
    {
        var sawClose = false;
        while (true)
        {
            while (TryParse(out var opcode, out _))
            {
                sawClose |= opcode == 0x8;
            }

            Compact();
            int read;
            try
            {
                read = await _socket.ReceiveAsync(_rx.AsMemory(_rxEnd), SocketFlags.None, ct);
            }
            catch (SocketException)
            {
                return sawClose;
            }

            if (read == 0)
            {
                return sawClose;
            }

            _rxEnd += read;
        }
    }

    private bool TryParse(out int opcode, out ReadOnlyMemory<byte> payload)
    {
        opcode = 0;
        payload = default;
        var available = _rxEnd - _rxStart;
        if (available < 2)
        {
            return false;
        }

        var b0 = _rx[_rxStart];
        var len = _rx[_rxStart + 1] & 0x7F;
        var header = 2;
        long length = len;
        if (len == 126)
        {
            if (available < 4)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(_rx.AsSpan(_rxStart + 2));
            header = 4;
        }
        else if (len == 127)
        {
            if (available < 10)
            {
                return false;
            }

            length = (long)BinaryPrimitives.ReadUInt64BigEndian(_rx.AsSpan(_rxStart + 2));
            header = 10;
        }

        if (header + length > _rx.Length)
        {
            throw new IOException($"frame of {length} bytes is larger than the driver's receive buffer");
        }

        if (available < header + length)
        {
            return false;
        }

        opcode = b0 & 0x0F;
        payload = _rx.AsMemory(_rxStart + header, (int)length);
        _rxStart += header + (int)length;
        return true;
    }

    private void Compact()
    {
        if (_rxStart == 0)
        {
            return;
        }

        var left = _rxEnd - _rxStart;
        if (left > 0)
        {
            Buffer.BlockCopy(_rx, _rxStart, _rx, 0, left);
        }

        _rxStart = 0;
        _rxEnd = left;
    }

    public void Dispose() => _socket.Dispose();
}
