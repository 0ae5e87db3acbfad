using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Listeners;

/// <summary>Turns a vhost's <c>address</c> (an IP address or a network interface name, as lws's <c>-i</c>) into an IP address.</summary>
internal static class ListenAddressResolver
{
    public static IPAddress Resolve(string vhostName, string address)
    {
        if (IPAddress.TryParse(address, out var ip))
        {
            return ip;
        }

        var networkInterface = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == address);
        if (networkInterface is null)
        {
            throw new LwsConfigurationException(
                $"vhost '{vhostName}': address: '{address}' is neither an IP address nor a network interface of this machine.");
        }

        var addresses = networkInterface.GetIPProperties().UnicastAddresses.Select(a => a.Address).ToList();
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new LwsConfigurationException($"vhost '{vhostName}': address: interface '{address}' has no IP address.");
    }
}
