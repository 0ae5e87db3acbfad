using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The engine's logger factory as a listener's Kestrel sees it, without ASP.NET Core hosting's per-request diagnostics
/// ("Request starting/finished"). While that logger is enabled, hosting creates an <see cref="System.Diagnostics.Activity"/>
/// and a log scope for every request and keeps them for the request's whole life, which for a WebSocket is the whole
/// session: about 0.5 KiB per idle connection and CPU on every handshake (measured in bench/RESULTS.md). Requests are
/// recorded by the vhost's access log instead, as in lws. Tracing listeners (an ActivitySource listener or a
/// DiagnosticListener subscriber) still get their activities.
/// </summary>
internal sealed class ListenerLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public ILogger CreateLogger(string categoryName)
        => string.Equals(categoryName, HostingDiagnostics, StringComparison.Ordinal) ? NullLogger.Instance : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The engine owns the inner factory.
    }
}
