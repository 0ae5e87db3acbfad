using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// Strict binding of a listen socket to a network interface (lws: <c>bind_iface</c>, the test server's <c>-k</c>):
/// SO_BINDTODEVICE is set before bind, so the kernel delivers only connections that arrive on that interface.
/// The raw errors are cryptic (an unknown device is "Unknown socket error"), so the name is checked first and failures
/// are translated into messages naming the vhost and the interface.
/// </summary>
internal static class InterfaceBinding
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;

    /// <summary>Throws when no network interface of this machine has the name.</summary>
    public static void Validate(string vhost, string device)
    {
        if (!NetworkInterface.GetAllNetworkInterfaces().Any(n => n.Name == device))
        {
            throw new LwsConfigurationException(
                $"vhost '{vhost}': bindInterface: there is no network interface '{device}' on this machine (known: {string.Join(", ", NetworkInterface.GetAllNetworkInterfaces().Select(n => n.Name))}).");
        }
    }

    /// <summary>Kestrel's listen socket, bound to <paramref name="device"/> before it is bound to the endpoint.</summary>
    public static Socket CreateBoundListenSocket(string vhost, string device, EndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            try
            {
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(device + "\0"));
            }
            catch (SocketException ex)
            {
                throw new LwsConfigurationException(Explain(vhost, device, ex), ex);
            }

            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>What a failed SO_BINDTODEVICE means, naming the vhost and the interface.</summary>
    public static string Explain(string vhost, string device, SocketException error)
    {
        var reason = error.SocketErrorCode switch
        {
            SocketError.AccessDenied => "binding a socket to an interface (SO_BINDTODEVICE) needs root or the CAP_NET_RAW capability; start the server as root (it can drop to another user with -u/-g after binding)",
            _ when error.NativeErrorCode is 19 or -131074 || error.SocketErrorCode == SocketError.SocketError
                => "the kernel knows no such device (it may have been removed)",
            _ => $"SO_BINDTODEVICE failed: {error.SocketErrorCode} ({error.Message})",
        };
        return $"vhost '{vhost}': bindInterface: cannot bind to interface '{device}': {reason}.";
    }
}
