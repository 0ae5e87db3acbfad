using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// One message on a backplane channel, binary: version (1 byte), kind (1: 0 text, 1 binary, 2 mark), origin (16, the
/// publishing server's id), incarnation (8, big-endian: which of the origin's successive channel objects of that name
/// published it, increasing), sequence (8, big-endian, per origin, incarnation and channel), sender id length (2,
/// big-endian) and UTF-8 bytes, then the payload. A mark carries no payload: it tells the other servers the last
/// sequence number the origin used, so a lost tail shows as a gap even when the origin sends nothing more.
/// </summary>
internal readonly record struct BackplaneFrame(
    Guid Origin, long Incarnation, long Sequence, string? SenderId, WebSocketMessageType Type, bool IsMark, ReadOnlyMemory<byte> Payload)
{
    public const byte Version = 2;
    public const int HeaderSize = 1 + 1 + 16 + 8 + 8 + 2;
    private const byte MarkKind = 2;
    private const int MaxSenderIdBytes = 256;

    public static byte[] Encode(Guid origin, long sequence, string? senderId, WebSocketMessageType type, ReadOnlySpan<byte> payload)
        => Encode(origin, 0, sequence, senderId, type, payload);

    public static byte[] Encode(Guid origin, long incarnation, long sequence, string? senderId, WebSocketMessageType type, ReadOnlySpan<byte> payload)
        => Write(origin, incarnation, sequence, senderId, type == WebSocketMessageType.Binary ? (byte)1 : (byte)0, payload);

    /// <summary>A mark: <paramref name="sequence"/> is the last number the origin used on the channel (at least 1).</summary>
    public static byte[] EncodeMark(Guid origin, long incarnation, long sequence)
        => Write(origin, incarnation, sequence, null, MarkKind, []);

    /// <summary>Reads a frame; the payload is a slice of <paramref name="frame"/>, not a copy.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> frame, out BackplaneFrame decoded)
    {
        decoded = default;
        var span = frame.Span;
        if (span.Length < HeaderSize || span[0] != Version || span[1] > MarkKind)
        {
            return false;
        }

        var senderLength = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(34, 2));
        if (senderLength > MaxSenderIdBytes || span.Length < HeaderSize + senderLength)
        {
            return false;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(span.Slice(26, 8));
        if (sequence < 1)
        {
            return false;
        }

        decoded = new BackplaneFrame(
            new Guid(span.Slice(2, 16)),
            BinaryPrimitives.ReadInt64BigEndian(span.Slice(18, 8)),
            sequence,
            senderLength == 0 ? null : Encoding.UTF8.GetString(span.Slice(HeaderSize, senderLength)),
            span[1] == 1 ? WebSocketMessageType.Binary : WebSocketMessageType.Text,
            span[1] == MarkKind,
            frame[(HeaderSize + senderLength)..]);
        return true;
    }

    private static byte[] Write(Guid origin, long incarnation, long sequence, string? senderId, byte kind, ReadOnlySpan<byte> payload)
    {
        var sender = senderId is null ? [] : Encoding.UTF8.GetBytes(senderId);
        if (sender.Length > MaxSenderIdBytes)
        {
            sender = sender[..MaxSenderIdBytes];
        }

        var frame = new byte[HeaderSize + sender.Length + payload.Length];
        var span = frame.AsSpan();
        span[0] = Version;
        span[1] = kind;
        origin.TryWriteBytes(span.Slice(2, 16));
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(18, 8), incarnation);
        BinaryPrimitives.WriteInt64BigEndian(span.Slice(26, 8), sequence);
        BinaryPrimitives.WriteUInt16BigEndian(span.Slice(34, 2), (ushort)sender.Length);
        sender.CopyTo(span[HeaderSize..]);
        payload.CopyTo(span[(HeaderSize + sender.Length)..]);
        return frame;
    }
}
