using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Plugins.Reload;

/// <summary>
/// Replaces the instance one vhost serves a protocol with, for a plugin reload or a changed definition: new sessions go
/// to the next instance (or the protocol becomes unavailable) at once, and the previous instance retires. Its sessions
/// move to the next instance when both handlers support the SDK's state hand-over; otherwise they drain (within the
/// vhost's drain timeout) or, under <see cref="PluginReloadPolicy.Restart"/>, are closed with 1012. Completes when the
/// previous instance is disposed.
/// </summary>
internal static class InstanceReplacement
{
    /// <summary>RFC 6455 close code 1012 (IANA registry), which <see cref="WebSocketCloseStatus"/> does not name.</summary>
    private const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    public static async Task ReplaceAsync(Vhost vhost, VhostProtocol protocol, ProtocolInstance? next, string? unavailableReason, PluginReloadPolicy policy)
    {
        var previous = protocol.Replace(next, unavailableReason);
        if (previous is null)
        {
            return;
        }

        var handedOver = next is not null && previous.Handler is IProtocolStateTransfer from && next.Handler is IProtocolStateTransfer to
            && await HandOverAsync(vhost, protocol, previous, next, from, to).ConfigureAwait(false);
        if (!handedOver && policy == PluginReloadPolicy.Restart)
        {
            CloseSessions(vhost, previous);
        }

        previous.Retire();
        var closeTimeout = TimeSpan.FromMilliseconds(vhost.Options.CloseTimeoutMs);
        var deadline = policy == PluginReloadPolicy.Restart ? closeTimeout : TimeSpan.FromMilliseconds(vhost.Options.DrainTimeoutMs);
        if (!await CompletesWithinAsync(previous.Drained, deadline, vhost.Time).ConfigureAwait(false))
        {
            CloseSessions(vhost, previous);
            if (!await CompletesWithinAsync(previous.Drained, closeTimeout, vhost.Time).ConfigureAwait(false))
            {
                foreach (var session in vhost.SessionsOf(previous))
                {
                    session.Abort();
                }

                await previous.Drained.ConfigureAwait(false);
            }
        }

        try
        {
            await previous.DisposeHandlerAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ProtocolDisposeFailed(vhost.Logger, ex, vhost.Name, previous.PluginId, protocol.Name);
        }

        protocol.Retired(previous);
    }

    private static async Task<bool> HandOverAsync(
        Vhost vhost, VhostProtocol protocol, ProtocolInstance previous, ProtocolInstance next, IProtocolStateTransfer from, IProtocolStateTransfer to)
    {
        var paused = new List<WebSocketSession>();
        foreach (var session in vhost.SessionsOf(previous).ToList())
        {
            // A session stuck in a callback for the whole close timeout stays on the old code and drains.
            if (await session.PauseAsync(TimeSpan.FromMilliseconds(vhost.Options.CloseTimeoutMs)).ConfigureAwait(false))
            {
                paused.Add(session);
            }
        }

        try
        {
            if (from.ExportState() is not { } state)
            {
                // The plugin declined: its sessions drain or restart per policy.
                Resume(paused);
                return false;
            }

            to.ImportState(state, paused);
        }
        catch (Exception ex)
        {
            Log.HandOverFailed(vhost.Logger, ex, vhost.Name, protocol.Name);
            Resume(paused);
            return false;
        }

        foreach (var session in paused)
        {
            session.MoveToAndResume(next);
        }

        return true;
    }

    private static void Resume(List<WebSocketSession> paused)
    {
        foreach (var session in paused)
        {
            session.Resume();
        }
    }

    private static void CloseSessions(Vhost vhost, ProtocolInstance instance)
    {
        foreach (var session in vhost.SessionsOf(instance))
        {
            session.Close(ServiceRestart, "plugin reloaded");
        }
    }

    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, TimeProvider time)
    {
        try
        {
            await task.WaitAsync(timeout, time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
