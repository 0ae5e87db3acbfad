// The floor our server stands on, for the load driver (issue 12): Kestrel with ASP.NET Core's WebSocket middleware and
// nothing of ours: no plugins, vhosts, frame guard, limits, metrics or logging. Each session waits with a zero-byte
// read (as ours does), echoes the client's close, and hands a data message to every open session (so the driver's
// "held" check works). It takes the driver's `-p <port> -i <address>` and ignores the rest. Measure it in place of our
// server: `dotnet bench/LoadDriver/bin/Release/net10.0/LoadDriver.dll --ours bench/RawKestrel/bin/Release/net10.0/raw-kestrel
// --scenarios idle,churn` (the tables then say "ours" for this baseline).
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

var port = 7681;
var address = IPAddress.Loopback;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "-p": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "-i": address = IPAddress.Parse(args[i + 1]); break;
    }
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
var app = builder.Build();
var sessions = new ConcurrentDictionary<WebSocket, byte>();
app.UseWebSockets();
app.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return;
    }

    var requested = context.WebSockets.WebSocketRequestedProtocols;
    using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
    {
        SubProtocol = requested.Count > 0 ? requested[0] : null,
        KeepAliveInterval = TimeSpan.Zero,
    });
    sessions.TryAdd(socket, 0);
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (result.MessageType != WebSocketMessageType.Close)
                    {
                        await BroadcastAsync(buffer.AsMemory(0, result.Count), result);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
                return;
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or IOException)
    {
        // The client went away.
    }
    finally
    {
        sessions.TryRemove(socket, out _);
    }
});
await app.RunAsync();

async Task BroadcastAsync(ReadOnlyMemory<byte> payload, ValueWebSocketReceiveResult received)
{
    foreach (var other in sessions.Keys)
    {
        try
        {
            await other.SendAsync(payload, received.MessageType, received.EndOfMessage, CancellationToken.None);
        }
        catch (Exception)
        {
            // A session that went away meanwhile.
        }
    }
}
