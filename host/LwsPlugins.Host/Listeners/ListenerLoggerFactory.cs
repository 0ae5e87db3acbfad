using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The engine's logger factory as a listener's Kestrel sees it: without ASP.NET Core hosting's per-request diagnostics
/// ("Request starting/finished"), and without log scopes. Both would otherwise live as long as the request, which for a
/// WebSocket is the whole session. While the hosting logger is enabled, hosting creates an
/// <see cref="System.Diagnostics.Activity"/> and a log scope for every request (about 0.5 KiB per idle connection and CPU
/// on every handshake); Kestrel opens a connection-id scope for every connection (about 0.2 KiB: the scope, its wrapper
/// and the execution context that carries it). Kestrel's own messages name the connection id in their text, and
/// requests are recorded by the vhost's access log, as in lws. Tracing listeners (an ActivitySource listener or a
/// DiagnosticListener subscriber) still get their activities. Measured in bench/RESULTS.md.
/// </summary>
internal sealed class ListenerLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    // The shared server's own host lifetime would announce its internal endpoints ("Now listening on:
    // http://lws-listeners:plain"); each real socket is logged by its listener (event 400), the process's lifetime by the server.
    private const string HostingLifetime = "Microsoft.Hosting.Lifetime";

    public ILogger CreateLogger(string categoryName)
        => string.Equals(categoryName, HostingDiagnostics, StringComparison.Ordinal) || string.Equals(categoryName, HostingLifetime, StringComparison.Ordinal)
            ? NullLogger.Instance
            : new ScopelessLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The engine owns the inner factory.
    }

    private sealed class ScopelessLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => null;

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
