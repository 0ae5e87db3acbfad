using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Strict RFC 6455 checks of a request that asks for a WebSocket (<c>Upgrade: websocket</c>) but that ASP.NET Core's
/// WebSocket middleware did not take: where lws is lenient (POST, a wrong or missing version), we refuse precisely.
/// </summary>
internal static class Handshake
{
    private const string SupportedVersion = "13";

    public static HandshakeProblem? Check(HttpRequest request)
    {
        if (!request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            return new HandshakeProblem(StatusCodes.Status405MethodNotAllowed, $"a WebSocket handshake must use GET, not {request.Method}.", [("Allow", "GET")]);
        }

        if (!request.Headers.Connection.ToString().Contains("upgrade", StringComparison.OrdinalIgnoreCase))
        {
            return new HandshakeProblem(StatusCodes.Status400BadRequest, "a WebSocket handshake needs 'Connection: Upgrade'.", []);
        }

        var version = request.Headers.SecWebSocketVersion.ToString();
        if (version != SupportedVersion)
        {
            return new HandshakeProblem(
                StatusCodes.Status426UpgradeRequired,
                $"unsupported Sec-WebSocket-Version '{version}'; this server speaks {SupportedVersion}.",
                [("Sec-WebSocket-Version", SupportedVersion)]);
        }

        var key = request.Headers.SecWebSocketKey.ToString();
        if (!IsValidKey(key))
        {
            return new HandshakeProblem(StatusCodes.Status400BadRequest, "Sec-WebSocket-Key must be the base64 encoding of 16 bytes.", []);
        }

        return new HandshakeProblem(StatusCodes.Status400BadRequest, "not a valid WebSocket handshake.", []);
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}

/// <summary>Why a WebSocket handshake is refused, and how.</summary>
internal sealed record HandshakeProblem(int Status, string Reason, IReadOnlyList<(string Name, string Value)> Headers, string MetricReason = "bad_handshake");
