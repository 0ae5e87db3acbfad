using System.Net.Sockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Listeners;

namespace LwsPlugins.Host.Tests.Listeners;

/// <summary>The raw SO_BINDTODEVICE errors are cryptic; what the server says instead names the vhost and the interface.</summary>
[TestFixture]
public sealed class InterfaceBindingTests
{
    [Test]
    public void MissingCapability_SaysRootOrCapNetRawIsNeeded()
    {
        // Linux before 5.7 (and a socket already bound to a device) refuse SO_BINDTODEVICE without CAP_NET_RAW with EPERM.
        var message = InterfaceBinding.Explain("edge", "eth1", new SocketException((int)SocketError.AccessDenied));

        Assert.That(message, Does.StartWith("vhost 'edge': bindInterface: cannot bind to interface 'eth1': ").And.Contain("needs root or the CAP_NET_RAW capability"));
    }

    [Test]
    public void UnknownDevice_IsNotAnUnknownSocketError()
    {
        // What .NET reports for ENODEV from SO_BINDTODEVICE: "Unknown socket error".
        var message = InterfaceBinding.Explain("edge", "gone0", new SocketException((int)SocketError.SocketError));

        Assert.That(message, Is.EqualTo("vhost 'edge': bindInterface: cannot bind to interface 'gone0': the kernel knows no such device (it may have been removed)."));
    }

    [Test]
    public void UnknownInterfaceName_IsRefusedBeforeAnySocketListingTheKnownOnes()
    {
        var error = Assert.Throws<LwsConfigurationException>(() => InterfaceBinding.Validate("edge", "nosuch-if9"))!;

        Assert.That(error.Message, Does.StartWith("vhost 'edge': bindInterface: there is no network interface 'nosuch-if9' on this machine (known: ").And.Contain("lo"));
    }

    [Test]
    public void Loopback_BindsTheSocketToTheDevice()
    {
        using var socket = InterfaceBinding.CreateBoundListenSocket("edge", "lo", new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));

        var device = new byte[16];
        var length = socket.GetRawSocketOption(1, 25, device);
        Assert.That(System.Text.Encoding.ASCII.GetString(device, 0, length).TrimEnd('\0'), Is.EqualTo("lo"));
    }
}
