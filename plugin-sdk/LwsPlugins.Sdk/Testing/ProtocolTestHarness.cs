using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Sdk.Testing;

/// <summary>
/// Runs a protocol in process, without a server, for unit tests: creates the handler through the plugin as a vhost does
/// (options bound and validated by the plugin), connects fake sessions (<see cref="TestSession"/>), and drives
/// <see cref="IProtocolHandler.OnSessionOpenedAsync"/>, <see cref="IProtocolHandler.OnMessageAsync"/> and
/// <see cref="IProtocolHandler.OnSessionClosedAsync"/> the way the host does.
/// </summary>
/// <example>
/// <code>
/// await using var harness = new ProtocolTestHarness(new EchoPlugin(), new EchoOptions { Prefix = "> " });
/// var session = await harness.ConnectAsync();
/// await harness.SendTextAsync(session, "hello");
/// Assert.That(session.SentTexts, Is.EqualTo(new[] { "> hello" }));
/// </code>
/// </example>
/// <remarks>
/// Calls for one session never overlap, as on the server. When the handler closes a session, the harness ends it and
/// calls <see cref="IProtocolHandler.OnSessionClosedAsync"/> once the handler's current call has returned. Disposing
/// the harness ends every session still open and disposes the handler (lws: <c>PROTOCOL_DESTROY</c>).
/// </remarks>
public sealed class ProtocolTestHarness : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<TestSession> _sessions = [];
    private readonly Dictionary<TestSession, SemaphoreSlim> _turns = [];
    private readonly ProtocolTestHarnessSettings _settings;
    private int _nextId;
    private bool _disposed;

    /// <summary>Creates the protocol's handler through <paramref name="plugin"/>, as a vhost does.</summary>
    /// <param name="plugin">The plugin's export, e.g. <c>new EchoPlugin()</c>.</param>
    /// <param name="options">
    /// The protocol's options, as a vhost would give them: an object whose readable properties are copied, by name and
    /// case-insensitively, onto the plugin's options type (e.g. an instance of that type or an anonymous object), or a
    /// dictionary of names and values; <see langword="null"/> for the options type's defaults.
    /// </param>
    /// <param name="settings">The names, clock and logging the handler is given; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ProtocolOptionsException">The options are invalid (unknown name, wrong type, or the plugin's validation failed).</exception>
    public ProtocolTestHarness(IProtocolPlugin plugin, object? options = null, ProtocolTestHarnessSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        _settings = settings ?? new ProtocolTestHarnessSettings();
        Context = new HarnessContext(_settings, options);
        Handler = plugin.CreateHandler(Context);
    }

    /// <summary>The handler the plugin created.</summary>
    public IProtocolHandler Handler { get; }

    /// <summary>The context the handler was created with.</summary>
    public IProtocolContext Context { get; }

    /// <summary>Every session connected so far, in order, ended ones included.</summary>
    public IReadOnlyList<TestSession> Sessions
    {
        get
        {
            lock (_gate)
            {
                return [.. _sessions];
            }
        }
    }

    /// <summary>Connects a new session and calls <see cref="IProtocolHandler.OnSessionOpenedAsync"/>.</summary>
    /// <param name="path">The request path of the upgrade request.</param>
    /// <param name="queryString">The query string, with or without the leading <c>?</c>, e.g. <c>?mirror=room</c>.</param>
    /// <param name="headers">Request headers of the upgrade request (e.g. <c>User-Agent</c>).</param>
    /// <returns>The session, after the handler's call has returned.</returns>
    public async Task<TestSession> ConnectAsync(string path = "/", string queryString = "", IReadOnlyDictionary<string, string>? headers = null)
    {
        TestSession session;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var id = "test-" + (++_nextId).ToString(CultureInfo.InvariantCulture);
            session = new TestSession(id, _settings.ProtocolName, _settings.VhostName, path, queryString, headers, _settings.TimeProvider.GetUtcNow());
            _sessions.Add(session);
            _turns.Add(session, new SemaphoreSlim(1, 1));
        }

        await DriveAsync(session, () => Handler.OnSessionOpenedAsync(session, session.Ended)).ConfigureAwait(false);
        return session;
    }

    /// <summary>Delivers a text message from the client and calls <see cref="IProtocolHandler.OnMessageAsync"/>.</summary>
    /// <param name="session">A session of this harness that has not ended.</param>
    /// <param name="text">The message.</param>
    /// <returns>A task that completes when the handler has handled the message.</returns>
    public Task SendTextAsync(TestSession session, string text)
        => SendAsync(session, new WebSocketMessage(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text)));

    /// <summary>Delivers a binary message from the client and calls <see cref="IProtocolHandler.OnMessageAsync"/>.</summary>
    /// <param name="session">A session of this harness that has not ended.</param>
    /// <param name="data">The message.</param>
    /// <returns>A task that completes when the handler has handled the message.</returns>
    public Task SendBinaryAsync(TestSession session, ReadOnlyMemory<byte> data)
        => SendAsync(session, new WebSocketMessage(WebSocketMessageType.Binary, data));

    /// <summary>Delivers a message from the client and calls <see cref="IProtocolHandler.OnMessageAsync"/>.</summary>
    /// <param name="session">A session of this harness that has not ended.</param>
    /// <param name="message">The message.</param>
    /// <returns>A task that completes when the handler has handled the message.</returns>
    /// <exception cref="InvalidOperationException">The session has ended.</exception>
    public async Task SendAsync(TestSession session, WebSocketMessage message)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.IsEnded || session.IsClosed)
        {
            throw new InvalidOperationException($"Session {session.Id} is closed; it receives no more messages.");
        }

        await DriveAsync(session, () => Handler.OnMessageAsync(session, message, session.Ended)).ConfigureAwait(false);
    }

    /// <summary>The client goes away: ends the session and calls <see cref="IProtocolHandler.OnSessionClosedAsync"/> (once per session).</summary>
    /// <param name="session">A session of this harness.</param>
    /// <returns>A task that completes when the handler has released the session.</returns>
    public async Task DisconnectAsync(TestSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var turn = Turn(session);
        await turn.WaitAsync().ConfigureAwait(false);
        try
        {
            session.MarkClosedByClient();
            await EndAsync(session).ConfigureAwait(false);
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>Ends every session still open (as <see cref="DisconnectAsync"/>) and disposes the handler.</summary>
    /// <returns>A task that completes when the handler is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        foreach (var session in Sessions)
        {
            await DisconnectAsync(session).ConfigureAwait(false);
        }

        await Handler.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var turn in _turns.Values)
            {
                turn.Dispose();
            }

            _turns.Clear();
        }
    }

    private async Task DriveAsync(TestSession session, Func<ValueTask> call)
    {
        var turn = Turn(session);
        await turn.WaitAsync().ConfigureAwait(false);
        try
        {
            try
            {
                await call().ConfigureAwait(false);
            }
            catch
            {
                // The host closes only the failing session, with 1011; the exception reaches the test.
                session.Close(WebSocketCloseStatus.InternalServerError, null);
                await EndAsync(session).ConfigureAwait(false);
                throw;
            }

            if (session.IsClosed)
            {
                await EndAsync(session).ConfigureAwait(false);
            }
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task EndAsync(TestSession session)
    {
        if (session.IsEnded)
        {
            return;
        }

        session.End();
        await Handler.OnSessionClosedAsync(session).ConfigureAwait(false);
    }

    private SemaphoreSlim Turn(TestSession session)
    {
        lock (_gate)
        {
            if (!_turns.TryGetValue(session, out var turn))
            {
                throw new ArgumentException($"Session {session.Id} does not belong to this harness.", nameof(session));
            }

            return turn;
        }
    }
}
