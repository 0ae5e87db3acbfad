using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// Listen endpoints as keys and as text: an IP endpoint, or a Unix socket, which compares and shows by its path
/// (<c>unix:/run/lws.sock</c>), as lws and curl name it.
/// </summary>
internal sealed class ListenEndPoints : IEqualityComparer<EndPoint>
{
    public static readonly ListenEndPoints Comparer = new();

    public static string Display(EndPoint endPoint)
        => endPoint is UnixDomainSocketEndPoint unix ? "unix:" + unix : endPoint.ToString() ?? "";

    public bool Equals(EndPoint? x, EndPoint? y)
        => (x, y) switch
        {
            (UnixDomainSocketEndPoint a, UnixDomainSocketEndPoint b) => string.Equals(a.ToString(), b.ToString(), StringComparison.Ordinal),
            _ => object.Equals(x, y),
        };

    public int GetHashCode([DisallowNull] EndPoint obj)
        => obj is UnixDomainSocketEndPoint unix ? StringComparer.Ordinal.GetHashCode(unix.ToString()!) : obj.GetHashCode();
}
