using System.Buffers.Binary;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// Several consecutive frames of one channel in one stream entry (field <c>p</c>): each frame as a 4-byte big-endian
/// length and its bytes. One <c>XADD</c> and one reply entry for up to <see cref="MaxFrames"/> frames is what brings the
/// streams transport to pub/sub's throughput: per message Redis otherwise inserts an entry and every server parses one.
/// A pack holds at most <see cref="MaxFrames"/> frames and <see cref="MaxBytes"/> bytes (a larger frame goes alone),
/// so an entry is never larger than today's largest message or 16 KiB, and <c>MAXLEN</c> still bounds a stream's memory.
/// </summary>
internal sealed class RedisStreamPack
{
    /// <summary>The stream entry field of a pack (a single frame, as first written, is field <c>f</c>).</summary>
    public const string Field = "p";

    /// <summary>
    /// At most this many frames in one entry: the reader asks for <c>1024 / MaxFrames</c> entries per <c>XREAD</c>, so a
    /// reply still hands members at most 1,024 messages before the reader waits for their queues.
    /// </summary>
    public const int MaxFrames = 16;

    public const int MaxBytes = 16 * 1024;

    private const int LengthSize = 4;

    private readonly List<byte[]> _frames = new(MaxFrames);
    private int _bytes;

    public int Count => _frames.Count;

    /// <summary>Adds a frame unless the pack is full (the first frame always goes in, however large).</summary>
    public bool TryAdd(byte[] frame)
    {
        if (_frames.Count > 0 && (_frames.Count >= MaxFrames || _bytes + LengthSize + frame.Length > MaxBytes))
        {
            return false;
        }

        _frames.Add(frame);
        _bytes += LengthSize + frame.Length;
        return true;
    }

    /// <summary>The entry's value; the pack is empty afterwards.</summary>
    public byte[] Take()
    {
        var pack = new byte[_bytes];
        var at = 0;
        foreach (var frame in _frames)
        {
            BinaryPrimitives.WriteInt32BigEndian(pack.AsSpan(at, LengthSize), frame.Length);
            frame.CopyTo(pack, at + LengthSize);
            at += LengthSize + frame.Length;
        }

        _frames.Clear();
        _bytes = 0;
        return pack;
    }

    /// <summary>
    /// The frame of <paramref name="pack"/> at <paramref name="at"/> (a slice, not a copy), moving <paramref name="at"/>
    /// past it; false at the end, or at a malformed length (then <paramref name="at"/> is not at the end).
    /// </summary>
    public static bool TryNext(ReadOnlyMemory<byte> pack, ref int at, out ReadOnlyMemory<byte> frame)
    {
        frame = default;
        if (pack.Length - at < LengthSize)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(pack.Span.Slice(at, LengthSize));
        if (length < 0 || length > pack.Length - at - LengthSize)
        {
            return false;
        }

        frame = pack.Slice(at + LengthSize, length);
        at += LengthSize + length;
        return true;
    }
}
