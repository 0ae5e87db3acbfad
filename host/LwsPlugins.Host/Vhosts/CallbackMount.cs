using LwsPlugins.Host.Logging;
using LwsPlugins.Sdk.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A <c>callback://&lt;protocol&gt;</c> mount (lws: <c>LWSMPRO_CALLBACK</c>, <c>LWS_CALLBACK_HTTP</c>): requests under the
/// mount point go to the protocol's current instance, if its handler implements <see cref="IHttpRequestHandler"/>. The
/// request holds the instance, so a hot reload neither disposes it under the request nor sends the request to old code
/// after the switch. A handler that throws gets 500, one that takes longer than the vhost's callback timeout 504 (both
/// abort the response instead once it has started); neither touches other requests or sessions.
/// </summary>
internal sealed class CallbackMount(Vhost vhost, VhostProtocol protocol, PathString mountPoint, ILogger logger)
{
    public async Task InvokeAsync(HttpContext context, PathString path)
    {
        var instance = Enter();
        if (instance is null)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, $"protocol '{protocol.Name}' is unavailable on vhost '{vhost.Name}': {protocol.UnavailableReason}").ConfigureAwait(false);
            return;
        }

        try
        {
            if (instance.Handler is not IHttpRequestHandler handler)
            {
                await RefuseAsync(context, StatusCodes.Status501NotImplemented, $"protocol '{protocol.Name}' (plugin '{instance.PluginId}') does not handle HTTP requests.").ConfigureAwait(false);
                return;
            }

            await RunAsync(context, path, instance, handler).ConfigureAwait(false);
        }
        finally
        {
            instance.ExitRequest();
        }
    }

    private async Task RunAsync(HttpContext context, PathString path, ProtocolInstance instance, IHttpRequestHandler handler)
    {
        var timeoutMs = vhost.Options.CallbackTimeoutMs;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var exchange = new HttpExchange(context, vhost.Name, mountPoint, path);

        // On the thread pool, so a handler that blocks its thread before returning a task is timed out like any other.
        var handling = Task.Run(() => handler.HandleHttpAsync(exchange, cancellation.Token).AsTask(), CancellationToken.None);
        try
        {
            if (timeoutMs > 0)
            {
                await handling.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs), vhost.Time).ConfigureAwait(false);
            }
            else
            {
                await handling.ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            exchange.Detach();
            await cancellation.CancelAsync().ConfigureAwait(false);
            instance.CallbackTimedOut();
            vhost.Traffic.Metrics.PluginCallbackTimeouts.Add(1, vhost.Traffic.VhostTag, new("protocol", protocol.Name), new("callback", "HandleHttpAsync"));
            Log.PluginHttpTimedOut(logger, vhost.Name, instance.PluginId, protocol.Name, context.Request.Method, context.Request.Path.Value ?? "/", timeoutMs);
            ObserveAbandoned(handling);
            Fail(context, StatusCodes.Status504GatewayTimeout);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex)
        {
            Log.PluginHttpFailed(logger, ex, vhost.Name, instance.PluginId, protocol.Name, context.Request.Method, context.Request.Path.Value ?? "/");
            Fail(context, StatusCodes.Status500InternalServerError);
        }
    }

    private ProtocolInstance? Enter()
    {
        // A reload can drain the instance read here before the request takes it: read the slot again then.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (protocol.Current is not { } instance)
            {
                return null;
            }

            if (instance.TryEnterRequest())
            {
                return instance;
            }
        }

        return null;
    }

    private static void Fail(HttpContext context, int status)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
    }

    private static Task RefuseAsync(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n", context.RequestAborted);
    }

    private static void ObserveAbandoned(Task handling)
        => _ = handling.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
