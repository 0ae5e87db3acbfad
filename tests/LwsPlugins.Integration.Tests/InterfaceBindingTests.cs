using System.Security.Cryptography;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// -k (lws: bind_iface) on real interfaces. The namespace test builds two network namespaces, each joined to this one by
/// a veth pair, and connects from both to the address of the interface the server is bound to.
/// </summary>
[TestFixture]
public sealed class InterfaceBindingTests
{
    [Test]
    public async Task BoundToOneInterface_ServesConnectionsArrivingOnIt_AndRefusesThoseArrivingOnAnother()
    {
        if (!Command.IsRoot)
        {
            Assert.Ignore("needs root: the test creates network namespaces and veth pairs (ip netns, ip link), and SO_BINDTODEVICE may need CAP_NET_RAW");
        }

        await using var network = await TwoNamespaces.CreateAsync();
        await using var bound = await ServerProcess.StartAsync("-i", network.ServedInterface, "-k", "-p", "0");
        await using var unbound = await ServerProcess.StartAsync("-i", network.ServedInterface, "-p", "0");
        Assert.That(bound.EndPoint.Address.ToString(), Is.EqualTo(network.ServedAddress));

        Assert.That(await network.GetFromAsync(network.Near, bound.EndPoint.Port), Does.StartWith("HTTP/1.1 200"), "arriving on the bound interface: served");
        Assert.That(await network.GetFromAsync(network.Far, bound.EndPoint.Port), Does.Contain("refused"), "arriving on the other interface: refused");

        // The same address without -k is reachable from both sides: the refusal above is the device binding, not routing.
        Assert.That(await network.GetFromAsync(network.Far, unbound.EndPoint.Port), Does.StartWith("HTTP/1.1 200"));
        Assert.That(await network.GetFromAsync(network.Near, unbound.EndPoint.Port), Does.StartWith("HTTP/1.1 200"));
    }

    [Test]
    public async Task BoundToLoopback_Serves()
    {
        await using var server = await ServerProcess.StartAsync("-i", "lo", "-k", "-p", "0");
        using var http = new HttpClient { Timeout = WsClient.DefaultTimeout };

        var page = await http.GetStringAsync(new Uri($"http://{server.EndPoint}/"));

        Assert.That(page, Does.Contain("LwsPlugins demo"));
        Assert.That(server.Output, Does.Contain("bound to device lo"));
    }

    [Test]
    public async Task UnknownInterface_ExitsWith2NamingTheVhostAndTheInterface()
    {
        var (exitCode, output) = await ServerProcess.RunToExitAsync("-i", "nosuch-if0", "-k", "-p", "0");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("vhost 'localhost': bindInterface: there is no network interface 'nosuch-if0'"));
    }

    [Test]
    public async Task BindInterfaceWithAnIpAddress_ExitsWith2NamingTheVhost()
    {
        var (exitCode, output) = await ServerProcess.RunToExitAsync("-i", "127.0.0.1", "-k", "-p", "0");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("vhost 'localhost': bindInterface: needs a network interface name in address").And.Contain("'127.0.0.1'"));
    }

    [Test]
    public async Task BoundAndUnboundVhosts_CannotShareAPort()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var bound = LoopbackServer.Vhost("bound", "dumb-increment-protocol");
        (bound.Address, bound.BindInterface) = ("lo", true);
        var endPoint = await server.Context.CreateVhostAsync(bound, CancellationToken.None);
        var plain = LoopbackServer.Vhost("plain", "dumb-increment-protocol");
        plain.Port = endPoint.Port;

        var error = Assert.ThrowsAsync<LwsPlugins.Host.Configuration.LwsConfigurationException>(() => server.Context.CreateVhostAsync(plain, CancellationToken.None))!;

        Assert.That(error.Message, Does.StartWith($"vhost 'plain': bindInterface: {endPoint} is served by vhost 'bound' bound to interface 'lo'"));
    }

    /// <summary>
    /// Namespaces <c>near</c> and <c>far</c>, each linked to this namespace by a veth pair. The served interface is this
    /// side of near's pair; far reaches the served address through its own pair (default route), so its packets arrive on
    /// another interface. Unique names per run; everything is deleted on dispose.
    /// </summary>
    private sealed class TwoNamespaces : IAsyncDisposable
    {
        private readonly string _id = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        private readonly int _subnet = RandomNumberGenerator.GetInt32(64, 127);

        public string Near => $"lwsnear{_id}";

        public string Far => $"lwsfar{_id}";

        public string ServedInterface => $"lwn{_id}h";

        public string ServedAddress => $"10.{_subnet}.1.1";

        private string FarInterface => $"lwf{_id}h";

        public static async Task<TwoNamespaces> CreateAsync()
        {
            var network = new TwoNamespaces();
            try
            {
                await network.LinkAsync(network.Near, network.ServedInterface, $"lwn{network._id}n", 1);
                await network.LinkAsync(network.Far, network.FarInterface, $"lwf{network._id}n", 2);
                await Command.RunCheckedAsync("ip", "-n", network.Far, "route", "add", "default", "via", $"10.{network._subnet}.2.1");
                return network;
            }
            catch
            {
                await network.DisposeAsync();
                throw;
            }
        }

        /// <summary>An HTTP GET from inside a namespace (bash's /dev/tcp): the status line, or the connection error.</summary>
        public async Task<string> GetFromAsync(string ns, int port)
        {
            var script = $"exec 3<>/dev/tcp/{ServedAddress}/{port} || exit 7; printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3; head -n 1 <&3";
            var (_, output) = await Command.RunAsync("ip", "netns", "exec", ns, "timeout", "10", "bash", "-c", script);
            return output;
        }

        private async Task LinkAsync(string ns, string hostSide, string nsSide, int net)
        {
            await Command.RunCheckedAsync("ip", "netns", "add", ns);
            await Command.RunCheckedAsync("ip", "link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
            await Command.RunCheckedAsync("ip", "link", "set", nsSide, "netns", ns);
            await Command.RunCheckedAsync("ip", "addr", "add", $"10.{_subnet}.{net}.1/24", "dev", hostSide);
            await Command.RunCheckedAsync("ip", "link", "set", hostSide, "up");
            await Command.RunCheckedAsync("ip", "-n", ns, "addr", "add", $"10.{_subnet}.{net}.2/24", "dev", nsSide);
            await Command.RunCheckedAsync("ip", "-n", ns, "link", "set", nsSide, "up");
            await Command.RunCheckedAsync("ip", "-n", ns, "link", "set", "lo", "up");
        }

        public async ValueTask DisposeAsync()
        {
            // Deleting a namespace deletes the veth ends in it, and with them their peers here; the explicit deletes are for
            // a half-built set-up. Errors are ignored: the point is that nothing is left.
            foreach (var ns in new[] { Near, Far })
            {
                await Command.RunAsync("ip", "netns", "del", ns);
            }

            foreach (var link in new[] { ServedInterface, FarInterface })
            {
                await Command.RunAsync("ip", "link", "del", link);
            }
        }
    }
}
