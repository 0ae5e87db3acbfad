using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>
/// A WebSocket client over a raw TCP socket that writes whatever bytes a test asks for (bad frames included) and parses
/// what the server sends back, so RFC 6455 violations can be sent on purpose.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects; a <paramref name="receiveBufferSize"/> above 0 fixes the socket's receive buffer (no autotuning), so a client that stops reading fills it soon.</summary>
    public static async Task<RawWebSocket> ConnectAsync(IPEndPoint endPoint, int receiveBufferSize = 0)
    {
        var tcp = new TcpClient();
        if (receiveBufferSize > 0)
        {
            // Before connecting: the window scale is agreed in the handshake.
            tcp.ReceiveBufferSize = receiveBufferSize;
        }

        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        await tcp.ConnectAsync(endPoint, timeout.Token);
        return new RawWebSocket(tcp);
    }

    /// <summary>Connects and completes a valid handshake for <paramref name="protocol"/>.</summary>
    public static async Task<RawWebSocket> UpgradeAsync(IPEndPoint endPoint, string protocol, string path = "/", int receiveBufferSize = 0)
    {
        var socket = await ConnectAsync(endPoint, receiveBufferSize);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {endPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"));
        var (status, _) = await socket.ReadHttpResponseHeadAsync();
        if (status != 101)
        {
            socket.Dispose();
            throw new InvalidOperationException($"the upgrade was answered {status}");
        }

        return socket;
    }

    public async Task SendAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        await _stream.WriteAsync(bytes, timeout.Token);
    }

    /// <summary>Builds a frame: <paramref name="first"/> is the FIN, RSV and opcode byte; the payload is masked unless told otherwise.</summary>
    public static byte[] Frame(byte first, byte[] payload, bool masked = true, ulong? declaredLength = null)
    {
        var length = declaredLength ?? (ulong)payload.Length;
        var frame = new List<byte> { first };
        var maskBit = masked ? (byte)0x80 : (byte)0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | (byte)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            var extended = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(extended, length);
            frame.AddRange(extended);
        }

        byte[] mask = [0x11, 0x22, 0x33, 0x44];
        if (masked)
        {
            frame.AddRange(mask);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ mask[i % 4]) : payload[i]);
        }

        return [.. frame];
    }

    public static byte[] ClosePayload(ushort code, byte[]? reason = null)
    {
        var payload = new byte[2 + (reason?.Length ?? 0)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        reason?.CopyTo(payload, 2);
        return payload;
    }

    /// <summary>Reads the server's frames until its close frame; returns the close code (or null for an empty close).</summary>
    public async Task<int?> ReadCloseCodeAsync()
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        while (true)
        {
            var (opcode, payload) = await ReadFrameAsync(timeout.Token);
            if (opcode == 0x8)
            {
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : null;
            }
        }
    }

    /// <summary>Reads the server's frames until its close frame; returns its code, reason and the data frames read before it.</summary>
    public async Task<(int? Code, string Reason, int DataFrames)> ReadCloseAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? WsClient.DefaultTimeout);
        var frames = 0;
        while (true)
        {
            var (opcode, payload) = await ReadFrameAsync(timeout.Token);
            if (opcode == 0x8)
            {
                return payload.Length >= 2
                    ? (BinaryPrimitives.ReadUInt16BigEndian(payload), Encoding.UTF8.GetString(payload, 2, payload.Length - 2), frames)
                    : (null, "", frames);
            }

            frames++;
        }
    }

    /// <summary>Reads the next frame the server sends (the server sends each message as one frame).</summary>
    public async Task<(int Opcode, byte[] Payload)> ReadFrameAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? WsClient.DefaultTimeout);
        return await ReadFrameAsync(timeout.Token);
    }

    /// <summary>Whether the server closes the TCP connection within the bound (reads return 0 or fail).</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Reads an HTTP response's status code and head (up to the blank line).</summary>
    /// <summary>Reads to the end: true when the server closed with a FIN within the time, false on a reset or a timeout.</summary>
    public async Task<bool> IsClosedGracefullyAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return false;
        }
    }

    public async Task<(int Status, string Head)> ReadHttpResponseHeadAsync()
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one, timeout.Token) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        var text = head.ToString();
        var parts = text.Split(' ', 3);
        return (parts.Length > 1 && int.TryParse(parts[1], out var status) ? status : 0, text);
    }

    /// <summary>Reads what is left until the server closes the connection (bounded), as text.</summary>
    public async Task<string> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        using var rest = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                rest.Write(buffer, 0, read);
                if (Encoding.UTF8.GetString(rest.ToArray()) is var text && text.Length > 0 && !_tcp.Client.Poll(0, SelectMode.SelectRead))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
        }

        return Encoding.UTF8.GetString(rest.ToArray());
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }

    private async Task<(int Opcode, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var head = await ReadExactlyAsync(2, cancellationToken);
        var length = (ulong)(head[1] & 0x7F);
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, cancellationToken));
        }
        else if (length == 127)
        {
            length = BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, cancellationToken));
        }

        return (head[0] & 0x0F, await ReadExactlyAsync((int)length, cancellationToken));
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }
}
