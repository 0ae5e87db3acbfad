using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.WebSockets;

namespace LwsPlugins.Sdk.Testing;

/// <summary>
/// A fake <see cref="IWebSocketSession"/> made by <see cref="ProtocolTestHarness.ConnectAsync"/>: it records what the
/// handler sends and how it closes the session, instead of writing to a socket.
/// </summary>
/// <remarks>
/// As on the server, <see cref="TrySend"/> returns <see langword="false"/> once the session is closing or has ended, and
/// <see cref="Close"/> only asks for the close: the harness then ends the session and calls
/// <see cref="IProtocolHandler.OnSessionClosedAsync"/>, after the handler's current call has returned. Thread-safe.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "The Ended source has no timer: cancelling it is all it needs, and sessions are handed to handlers that never dispose them.")]
public sealed class TestSession : IWebSocketSession
{
    private readonly Lock _gate = new();
    private readonly List<WebSocketMessage> _sent = [];
    private readonly Dictionary<string, string> _headers;
    private readonly CancellationTokenSource _ended = new();

    internal TestSession(string id, string protocol, string vhostName, string path, string queryString, IReadOnlyDictionary<string, string>? headers, DateTimeOffset connectedAt)
    {
        Id = id;
        Protocol = protocol;
        VhostName = vhostName;
        Path = path;
        QueryString = queryString.Length == 0 || queryString[0] == '?' ? queryString : "?" + queryString;
        ConnectedAt = connectedAt;
        _headers = new Dictionary<string, string>(headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public string Protocol { get; }

    /// <inheritdoc />
    public string VhostName { get; }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public string QueryString { get; }

    /// <inheritdoc />
    public IPEndPoint? RemoteEndPoint { get; } = new(IPAddress.Loopback, 50000);

    /// <inheritdoc />
    public string? UserAgent => GetHeader("User-Agent");

    /// <inheritdoc />
    public bool IsOverHttp2 => false;

    /// <inheritdoc />
    public DateTimeOffset ConnectedAt { get; }

    /// <inheritdoc />
    public object? State { get; set; }

    /// <inheritdoc />
    public CancellationToken Ended => _ended.Token;

    /// <summary>Every message the handler queued on this session, in order (payloads copied).</summary>
    public IReadOnlyList<WebSocketMessage> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>The text messages the handler queued on this session, in order.</summary>
    public IReadOnlyList<string> SentTexts => [.. Sent.Where(m => m.IsText).Select(m => m.GetText())];

    /// <summary>Whether the handler closed the session (<see cref="Close"/>) or the harness disconnected it.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Whether the session has ended: <see cref="IProtocolHandler.OnSessionClosedAsync"/> was called for it.</summary>
    public bool IsEnded => _ended.IsCancellationRequested;

    /// <summary>The close code the handler gave to <see cref="Close"/>, or <see langword="null"/> when it did not close the session.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    /// <summary>The close reason the handler gave to <see cref="Close"/>.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Forgets the messages recorded so far (<see cref="Sent"/>).</summary>
    public void ClearSent()
    {
        lock (_gate)
        {
            _sent.Clear();
        }
    }

    /// <inheritdoc />
    public string? GetHeader(string name) => _headers.TryGetValue(name, out var value) ? value : null;

    /// <inheritdoc />
    public string? GetQueryParameter(string name)
    {
        foreach (var pair in QueryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            if (key == name)
            {
                return equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            }
        }

        return null;
    }

    /// <inheritdoc />
    public bool TrySend(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        lock (_gate)
        {
            if (IsClosed || IsEnded)
            {
                return false;
            }

            _sent.Add(new WebSocketMessage(type, payload.ToArray()));
            return true;
        }
    }

    /// <inheritdoc />
    public void Close(WebSocketCloseStatus status, string? reason)
    {
        lock (_gate)
        {
            if (IsClosed || IsEnded)
            {
                return;
            }

            IsClosed = true;
            CloseStatus = status;
            CloseReason = reason;
        }
    }

    /// <summary>Marks the session closed by the client (no close code of the handler's).</summary>
    internal void MarkClosedByClient()
    {
        lock (_gate)
        {
            IsClosed = true;
        }
    }

    internal void End()
    {
        lock (_gate)
        {
            IsClosed = true;
        }

        _ended.Cancel();
    }
}
