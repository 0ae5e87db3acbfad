using System.Text.Json.Serialization;

namespace LwsPlugins.Host.Configuration;

/// <summary>One virtual host: its name, where it listens, what it serves, and its limits.</summary>
public sealed class VhostOptions
{
    /// <summary>The vhost's name; requests whose Host header names it are routed to it.</summary>
    public string Name { get; set; } = "";

    /// <summary>The IP address or network interface name to listen on.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 lets the system choose one.</summary>
    public int Port { get; set; } = 7681;

    /// <summary>
    /// With <see cref="Address"/> naming a network interface, also binds the listen socket to that device
    /// (SO_BINDTODEVICE, lws: <c>bind_iface</c>), so connections arriving on any other interface are refused.
    /// </summary>
    public bool BindInterface { get; set; }

    /// <summary>
    /// A Unix domain socket path to listen on instead of <see cref="Address"/> and <see cref="Port"/> (lws:
    /// <c>unix-socket</c>, the test server's <c>-U</c>), relative to the server's folder unless absolute. Vhosts naming
    /// the same path share the socket and are told apart by their Host header. A socket file left by a process that is
    /// gone is replaced; one that a live process listens on is not. The file is removed when the listener stops.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UnixSocket { get; set; }

    /// <summary>The Unix socket file's permission bits as octal text, e.g. <c>"0660"</c>; the process's umask decides when unset.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UnixSocketMode { get; set; }

    /// <summary>
    /// The Unix socket file's owner as <c>user</c>, <c>user:group</c> or <c>:group</c> (names or numeric ids; lws:
    /// <c>unix-socket-perms</c>), set while the server still runs as root, before a privilege drop.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UnixSocketOwner { get; set; }

    /// <summary>
    /// With <see cref="Tls"/>, whether clients may speak HTTP/2 (ALPN <c>h2</c> before <c>http/1.1</c>): static files and
    /// callback mounts over HTTP/2, and WebSockets over extended CONNECT (RFC 8441) on the page's own connection, as lws
    /// serves them. <see langword="false"/> offers HTTP/1.1 only. Plain-text vhosts always speak HTTP/1.1.
    /// </summary>
    public bool Http2 { get; set; } = true;

    /// <summary>TLS (HTTPS and wss://) for the vhost; plain HTTP when unset.</summary>
    public VhostTlsOptions? Tls { get; set; }

    /// <summary>
    /// The protocols served, each with its per-vhost options; exactly these when set. Unset (<see langword="null"/>), the
    /// vhost serves every protocol of every loaded plugin, live as plugins come and go (lws: a vhost without <c>pvo</c>);
    /// an entry <see cref="ProtocolSelection.AllPlugins"/> (<c>"*"</c>) adds that set to the listed ones.
    /// </summary>
    [JsonConverter(typeof(ProtocolSelectionListConverter))]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IList<ProtocolSelection>? Protocols { get; set; }

    /// <summary>Whether the vhost serves every loaded plugin's protocols (no list, or a list with <c>"*"</c>).</summary>
    [JsonIgnore]
    public bool ServesAllPlugins => Protocols is null || Protocols.Any(p => p?.IsAllPlugins == true);

    /// <summary>The protocols the vhost's <c>callback://</c> mounts name.</summary>
    [JsonIgnore]
    public IEnumerable<string> CallbackProtocols => (Mounts ?? []).Select(m => m?.CallbackProtocol).OfType<string>();

    /// <summary>Static-file mounts.</summary>
    public IList<MountOptions> Mounts { get; set; } = [];

    /// <summary>The largest WebSocket message accepted, in bytes; a larger one closes the session with 1009.</summary>
    public int MaxMessageSize { get; set; } = 1 << 20;

    /// <summary>
    /// How many messages may wait in one session's send queue; under <see cref="SlowConsumerPolicy.Backpressure"/> the
    /// high-water mark (the queue may hold up to twice it while the senders it paused stop).
    /// </summary>
    public int SendQueueLimit { get; set; } = 1024;

    /// <summary>What happens when a session's send queue is full.</summary>
    public SlowConsumerPolicy SlowConsumerPolicy { get; set; } = SlowConsumerPolicy.Backpressure;

    /// <summary>
    /// Under <see cref="SlowConsumerPolicy.Backpressure"/>, how long a session's writer may make no progress (write no
    /// message) while messages wait before the session is closed with 1008 (lws: 3 s); 0 turns it off.
    /// </summary>
    public int StallTimeoutMs { get; set; } = 3000;

    /// <summary>How long a closing session waits for the client's close frame before the connection is aborted.</summary>
    public int CloseTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// What a plugin reload does to this vhost's sessions on the old code; unset means the plugin manifest's
    /// <c>reloadPolicy</c>, else <see cref="PluginReloadPolicy.Drain"/>. A protocol whose handlers implement the SDK's
    /// state hand-over moves its sessions to the new code instead.
    /// </summary>
    public PluginReloadPolicy? ReloadPolicy { get; set; }

    /// <summary>How long old sessions may stay on the old code under <see cref="PluginReloadPolicy.Drain"/> before they are closed with 1012.</summary>
    public int DrainTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// A path prefix for health endpoints on this vhost, e.g. <c>/health</c>: <c>/health/live</c> answers while the
    /// process serves, <c>/health/ready</c> when every vhost is bound and every listed protocol available. Off when unset.
    /// </summary>
    public string? HealthPath { get; set; }

    /// <summary>
    /// A path where this vhost answers <c>GET</c> with the server's metrics in Prometheus text format (the admin API's
    /// <c>/metrics</c>), e.g. <c>/metrics</c>, to clients in <see cref="ObservabilityAllowFrom"/> only. Off when unset.
    /// </summary>
    public string? MetricsPath { get; set; }

    /// <summary>
    /// A path where this vhost answers <c>GET</c> with the <c>lws-server-status</c> document as JSON (the admin API's
    /// <c>/status</c>), to clients in <see cref="ObservabilityAllowFrom"/> only. Off when unset.
    /// </summary>
    public string? StatusPath { get; set; }

    /// <summary>
    /// The client addresses (<c>10.1.2.3</c>) and networks (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) that may read
    /// <see cref="MetricsPath"/> and <see cref="StatusPath"/>; others get 403. Loopback only by default.
    /// </summary>
    public List<string> ObservabilityAllowFrom { get; set; } = ["127.0.0.1", "::1"];

    /// <summary>A file the vhost appends its access log to, in Apache combined format (lws: <c>log_filepath</c>). Off when unset.</summary>
    public string? AccessLog { get; set; }

    /// <summary>Start a new access log file at the first line of each UTC day (<c>access.log</c> becomes <c>access.log.1</c>).</summary>
    public bool AccessLogRotateDaily { get; set; }

    /// <summary>Start a new access log file before a line would take it past this many bytes; 0 turns it off.</summary>
    public long AccessLogMaxBytes { get; set; }

    /// <summary>How many rotated access log files are kept (<c>.1</c> newest); older ones are deleted.</summary>
    public int AccessLogKeepFiles { get; set; } = 7;

    /// <summary>The most WebSocket sessions the vhost holds at once; 0 means no limit. Beyond it handshakes get 503.</summary>
    public int MaxSessions { get; set; }

    /// <summary>The most sessions one protocol holds on the vhost at once; 0 means no limit. Beyond it handshakes get 503.</summary>
    public int MaxSessionsPerProtocol { get; set; }

    /// <summary>The most sessions one client address holds on the vhost at once; 0 means no limit. Beyond it handshakes get 429.</summary>
    public int MaxSessionsPerAddress { get; set; }

    /// <summary>WebSocket handshakes one client address may make per second (a token bucket of that size); 0 means no limit. Beyond it: 429.</summary>
    public int HandshakesPerSecondPerAddress { get; set; }

    /// <summary>A session that receives nothing for this long is closed with 1001; 0 turns it off.</summary>
    public int IdleTimeoutMs { get; set; }

    /// <summary>
    /// How long one plugin callback (session opened, message, session closed, an HTTP request on a <c>callback://</c>
    /// mount) may run before the host gives up on it: the session is closed with 1011 (the HTTP request gets 504), its
    /// cancellation token is cancelled, and the protocol instance's timed-out callbacks are counted in the status and
    /// metrics. Catches handlers that block a thread or return a task that never completes. 0 turns it off.
    /// </summary>
    public int CallbackTimeoutMs { get; set; } = 30_000;

    /// <summary>With pings on, how long the server waits for a pong before it drops a dead peer; 0 means it never gives up.</summary>
    public int PongTimeoutMs { get; set; }

    /// <summary>Interval of WebSocket pings to detect dead peers; 0 turns them off (as lws by default).</summary>
    public int PingIntervalMs { get; set; }

    /// <summary>
    /// How long an HTTP/1.x connection may stay idle between requests after a response of this vhost before the server
    /// closes it (lws: <c>keepalive-timeout</c>, in seconds there); 0 leaves it to the server-wide bound,
    /// <see cref="LwsServerOptions.HandshakeTimeoutMs"/>, which is also its ceiling. Not used on HTTP/2 connections or on
    /// a connection upgraded to a WebSocket.
    /// </summary>
    public int KeepAliveTimeoutMs { get; set; }

    /// <summary>
    /// Whether a plain, well-formed WebSocket upgrade is taken on the connection itself, without Kestrel's HTTP
    /// connection state (less memory per session, fewer hops per handshake); what it does not fully understand goes
    /// through Kestrel's HTTP pipeline, as everything does when this is off. On by default.
    /// </summary>
    public bool WebSocketFastPath { get; set; } = true;
}
