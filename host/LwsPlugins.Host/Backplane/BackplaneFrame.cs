using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// One message on a backplane channel, binary: version (1 byte), message type (1: 0 text, 1 binary), origin (16, the
/// publishing server's id), sequence (8, big-endian, per origin and channel), sender id length (2, big-endian) and UTF-8
/// bytes, then the payload.
/// </summary>
internal readonly record struct BackplaneFrame(Guid Origin, long Sequence, string? SenderId, WebSocketMessageType Type, ReadOnlyMemory<byte> Payload)
{
    public const byte Version = 1;
    public const int HeaderSize = 1 + 1 + 16 + 8 + 2;
    private const int MaxSenderIdBytes = 256;

    public static byte[] Encode(Guid origin, long sequence, string? senderId, WebSocketMessageType type, ReadOnlySpan<byte> payload)
    {
        var sender = senderId is null ? [] : Encoding.UTF8.GetBytes(senderId);
        if (sender.Length > MaxSenderIdBytes)
        {
            sender = sender[..MaxSenderIdBytes];
        }

        var frame = new byte[HeaderSize + sender.Length + payload.Length];
        var span = frame.AsSpan();
        span[0] = Version;
        span[1] = type == WebSocketMessageType.Binary ? (byte)1 : (byte)0;
        origin.TryWriteBytes(span.Slice(2, 16));
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(18, 8), sequence);
        BinaryPrimitives.WriteUInt16BigEndian(span.Slice(26, 2), (ushort)sender.Length);
        sender.CopyTo(span[HeaderSize..]);
        payload.CopyTo(span[(HeaderSize + sender.Length)..]);
        return frame;
    }

    /// <summary>Reads a frame; the payload is a slice of <paramref name="frame"/>, not a copy.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> frame, out BackplaneFrame decoded)
    {
        decoded = default;
        var span = frame.Span;
        if (span.Length < HeaderSize || span[0] != Version || span[1] > 1)
        {
            return false;
        }

        var senderLength = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(26, 2));
        if (senderLength > MaxSenderIdBytes || span.Length < HeaderSize + senderLength)
        {
            return false;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(span.Slice(18, 8));
        if (sequence < 1)
        {
            return false;
        }

        decoded = new BackplaneFrame(
            new Guid(span.Slice(2, 16)),
            sequence,
            senderLength == 0 ? null : Encoding.UTF8.GetString(span.Slice(HeaderSize, senderLength)),
            span[1] == 1 ? WebSocketMessageType.Binary : WebSocketMessageType.Text,
            frame[(HeaderSize + senderLength)..]);
        return true;
    }
}
