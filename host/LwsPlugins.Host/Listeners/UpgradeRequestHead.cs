using System.Buffers;
using System.Text;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The head of a request the WebSocket fast path takes: a plain, well-formed RFC 6455 upgrade and nothing else. Parsing
/// is recognising: anything it does not fully understand (another method or version, percent-encoding or dot segments in
/// the path, a folded, non-ASCII, repeated or body header, a head over <see cref="MaxLength"/>) yields
/// <see langword="null"/>, and the connection goes to Kestrel's HTTP pipeline untouched, which answers or refuses it. So
/// what this accepts is a subset of what Kestrel and ASP.NET Core's WebSocket middleware accept, read the same way.
/// </summary>
internal sealed class UpgradeRequestHead
{
    /// <summary>Larger heads (big cookies) go to Kestrel, whose limits then apply.</summary>
    public const int MaxLength = 4096;

    private const int MaxHeaders = 32;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private readonly byte[] _head;

    private UpgradeRequestHead(byte[] head) => _head = head;

    /// <summary>The request target as sent (<c>/chat?mirror=a</c>).</summary>
    public string RawTarget { get; private init; } = "";

    /// <summary>The path (no percent-encoding or dot segments here, so the decoded path is the raw one).</summary>
    public string Path { get; private init; } = "";

    /// <summary>The query with its <c>?</c>, or empty.</summary>
    public string QueryString { get; private init; } = "";

    /// <summary>The Host header without its port, for routing.</summary>
    public string Host { get; private init; } = "";

    public string Key { get; private init; } = "";

    public string? UserAgent { get; private init; }

    public IList<string> RequestedProtocols { get; private init; } = [];

    /// <summary>Whether the client offers extensions (permessage-deflate): a protocol that negotiates them goes to Kestrel.</summary>
    public bool OffersExtensions { get; private init; }

    /// <summary>The head's length in bytes, terminating blank line included (what the 101 consumes).</summary>
    public int Length => _head.Length;

    /// <summary>
    /// Finds the end of the head in what has arrived. Returns the head's length, 0 while it is incomplete, and -1 when it
    /// cannot be one the fast path takes (too long, or not starting like an upgrade).
    /// </summary>
    public static int FindEnd(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer.Length > MaxLength ? buffer.Slice(0, MaxLength) : buffer);
        var starts = "GET /"u8;
        var prefix = (int)Math.Min(reader.Remaining, starts.Length);
        Span<byte> first = stackalloc byte[5];
        if (!reader.TryCopyTo(first[..prefix]) || !first[..prefix].SequenceEqual(starts[..prefix]))
        {
            return -1;
        }

        if (reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: true))
        {
            return (int)reader.Consumed;
        }

        return buffer.Length >= MaxLength ? -1 : 0;
    }

    /// <summary>Reads a complete head (<see cref="FindEnd"/>'s length); <see langword="null"/> when it is not a clean upgrade.</summary>
    public static UpgradeRequestHead? TryParse(in ReadOnlySequence<byte> head)
    {
        var bytes = head.ToArray();
        return TryParse(bytes);
    }

    private static UpgradeRequestHead? TryParse(byte[] bytes)
    {
        ReadOnlySpan<byte> rest = bytes;
        var lineEnd = rest.IndexOf("\r\n"u8);
        var requestLine = rest[..lineEnd];
        rest = rest[(lineEnd + 2)..];
        if (!requestLine.StartsWith("GET "u8) || !requestLine.EndsWith(" HTTP/1.1"u8))
        {
            return null;
        }

        var target = requestLine[4..^9];
        if (!IsCleanTarget(target, out var pathLength))
        {
            return null;
        }

        string? host = null, upgrade = null, connection = null, key = null, version = null, protocols = null, userAgent = null;
        var extensions = false;
        var count = 0;
        while (true)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            if (line.IsEmpty)
            {
                break;
            }

            if (++count > MaxHeaders || !TrySplit(line, out var name, out var value))
            {
                return null;
            }

            switch (Known(name))
            {
                case Header.Host when host is null:
                    host = Text(value);
                    break;
                case Header.Upgrade when upgrade is null:
                    upgrade = Text(value);
                    break;
                case Header.Connection when connection is null:
                    connection = Text(value);
                    break;
                case Header.Key when key is null:
                    key = Text(value);
                    break;
                case Header.Version when version is null:
                    version = Text(value);
                    break;
                case Header.Protocol when protocols is null:
                    protocols = Text(value);
                    break;
                case Header.UserAgent when userAgent is null:
                    userAgent = Text(value);
                    break;
                case Header.Extensions:
                    extensions = true;
                    break;
                case Header.Other:
                    break;
                default:
                    // A repeated upgrade header, or one that gives the request a body or an expectation.
                    return null;
            }
        }

        if (host is null || !TryHostName(host, out var hostName)
            || !string.Equals(upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            || connection is null || !HasToken(connection, "upgrade")
            || version != "13"
            || key is null || !IsValidKey(key))
        {
            return null;
        }

        List<string> requested = [];
        if (protocols is not null && !TrySplitProtocols(protocols, requested))
        {
            return null;
        }

        var targetText = Text(target);
        return new UpgradeRequestHead(bytes)
        {
            RawTarget = targetText,
            Path = targetText[..pathLength],
            QueryString = targetText[pathLength..],
            Host = hostName,
            Key = key,
            UserAgent = userAgent is { Length: > 0 } ? userAgent : null,
            RequestedProtocols = requested,
            OffersExtensions = extensions,
        };
    }

    /// <summary>A request header by name (case-insensitive); repeated ones joined with commas, as Kestrel's collection gives them.</summary>
    public string? GetHeader(string name)
    {
        ReadOnlySpan<byte> rest = _head;
        rest = rest[(rest.IndexOf("\r\n"u8) + 2)..];
        string? found = null;
        while (rest.IndexOf("\r\n"u8) is > 0 and var lineEnd)
        {
            if (TrySplit(rest[..lineEnd], out var headerName, out var value) && Ascii.EqualsIgnoreCase(headerName, name))
            {
                found = found is null ? Text(value) : found + "," + Text(value);
            }

            rest = rest[(lineEnd + 2)..];
        }

        return found;
    }

    private enum Header
    {
        Other,
        Host,
        Upgrade,
        Connection,
        Key,
        Version,
        Protocol,
        UserAgent,
        Extensions,
        Refused,
    }

    private static Header Known(ReadOnlySpan<byte> name)
    {
        static bool Is(ReadOnlySpan<byte> name, string known) => Ascii.EqualsIgnoreCase(name, known);
        return name.Length switch
        {
            4 when Is(name, "Host") => Header.Host,
            7 when Is(name, "Upgrade") => Header.Upgrade,
            10 when Is(name, "Connection") => Header.Connection,
            10 when Is(name, "User-Agent") => Header.UserAgent,
            17 when Is(name, "Sec-WebSocket-Key") => Header.Key,
            21 when Is(name, "Sec-WebSocket-Version") => Header.Version,
            22 when Is(name, "Sec-WebSocket-Protocol") => Header.Protocol,
            24 when Is(name, "Sec-WebSocket-Extensions") => Header.Extensions,
            14 when Is(name, "Content-Length") => Header.Refused,
            17 when Is(name, "Transfer-Encoding") => Header.Refused,
            6 when Is(name, "Expect") => Header.Refused,
            _ => Header.Other,
        };
    }

    /// <summary>
    /// <c>name: value</c> with a token name, visible ASCII (and inner spaces or tabs) in the value, optional whitespace
    /// around it. A folded line, a control or non-ASCII byte, or a name that is not a token is not clean.
    /// </summary>
    private static bool TrySplit(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        var colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        if (colon <= 0)
        {
            return false;
        }

        foreach (var b in name)
        {
            if (!IsTokenChar(b))
            {
                return false;
            }
        }

        var raw = line[(colon + 1)..];
        foreach (var b in raw)
        {
            if (b is (< 0x20 and not (byte)'\t') or >= 0x7F)
            {
                return false;
            }
        }

        value = raw.Trim(" \t"u8);
        return true;
    }

    private static bool IsTokenChar(byte b)
        => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+' or (byte)'-'
            or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';

    /// <summary>
    /// An origin-form target whose path Kestrel would not rewrite: unreserved and sub-delimiter characters, no
    /// percent-encoding, no empty, <c>.</c> or <c>..</c> segment; a query of visible ASCII without <c>#</c>.
    /// </summary>
    private static bool IsCleanTarget(ReadOnlySpan<byte> target, out int pathLength)
    {
        var query = target.IndexOf((byte)'?');
        pathLength = query < 0 ? target.Length : query;
        var path = target[..pathLength];
        if (path.IsEmpty || path[0] != '/' || target.Length > 1024 || query == target.Length - 1)
        {
            return false;
        }

        foreach (var b in path)
        {
            if (!(IsUnreservedOrSubDelim(b) || b is (byte)'/' or (byte)':' or (byte)'@'))
            {
                return false;
            }
        }

        if (path.IndexOf("//"u8) >= 0 || path.IndexOf("/./"u8) >= 0 || path.IndexOf("/../"u8) >= 0 || path.EndsWith("/."u8) || path.EndsWith("/.."u8))
        {
            return false;
        }

        foreach (var b in target[pathLength..])
        {
            if (b is <= 0x20 or >= 0x7F or (byte)'#')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUnreservedOrSubDelim(byte b)
        => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~'
            or (byte)'!' or (byte)'$' or (byte)'&' or (byte)'\'' or (byte)'(' or (byte)')' or (byte)'*' or (byte)'+' or (byte)',' or (byte)';' or (byte)'=';

    /// <summary>A host name of letters, digits, '-', '.', '_' with an optional port: what a vhost name can match.</summary>
    private static bool TryHostName(string host, out string name)
    {
        var colon = host.IndexOf(':', StringComparison.Ordinal);
        name = colon < 0 ? host : host[..colon];
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }

        var port = colon < 0 ? "" : host[(colon + 1)..];
        return colon < 0 || (port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit) && int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) <= 65535);
    }

    private static bool HasToken(string list, string token)
    {
        foreach (var range in list.AsSpan().Split(','))
        {
            if (list.AsSpan(range).Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Comma-separated tokens (a subprotocol name is a token, RFC 6455 §4.1); an empty or quoted element is not clean.</summary>
    private static bool TrySplitProtocols(string list, List<string> names)
    {
        foreach (var range in list.AsSpan().Split(','))
        {
            var name = list.AsSpan(range).Trim(" \t");
            if (name.IsEmpty)
            {
                return false;
            }

            foreach (var c in name)
            {
                if (c > 0x7F || !IsTokenChar((byte)c))
                {
                    return false;
                }
            }

            names.Add(name.ToString());
        }

        return names.Count > 0;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);
}
