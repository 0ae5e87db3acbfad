using System.Net.WebSockets;

namespace LwsPlugins.Host.Sessions;

/// <summary>A message waiting in a session's send queue; the payload may be shared by many sessions.</summary>
internal readonly record struct OutboundMessage(WebSocketMessageType Type, ReadOnlyMemory<byte> Payload, long QueuedAt);
