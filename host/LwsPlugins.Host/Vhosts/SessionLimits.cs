using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using LwsPlugins.Host.Configuration;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A vhost's admission limits for WebSocket handshakes: sessions per vhost, per protocol and per client address, and
/// the handshake rate per client address (a token bucket from System.Threading.RateLimiting).
/// </summary>
internal sealed class SessionLimits : IDisposable
{
    private readonly VhostOptions _options;
    private readonly Func<int> _sessions;
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly PartitionedRateLimiter<IPAddress>? _handshakeRate;

    public SessionLimits(VhostOptions options, Func<int> sessions)
    {
        _options = options;
        _sessions = sessions;
        if (options.HandshakesPerSecondPerAddress > 0)
        {
            var perSecond = options.HandshakesPerSecondPerAddress;
            _handshakeRate = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(
                address,
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perSecond,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        }
    }

    /// <summary>Why a handshake from <paramref name="address"/> for <paramref name="protocol"/> must be refused, or null.</summary>
    public HandshakeProblem? Check(VhostProtocol protocol, IPAddress? address)
    {
        if (_handshakeRate is not null && address is not null)
        {
            using var lease = _handshakeRate.AttemptAcquire(address);
            if (!lease.IsAcquired)
            {
                return new HandshakeProblem(
                    StatusCodes.Status429TooManyRequests, $"more than {_options.HandshakesPerSecondPerAddress} handshakes per second from {address}.", [("Retry-After", "1")], "rate");
            }
        }

        if (_options.MaxSessions > 0 && _sessions() >= _options.MaxSessions)
        {
            return new HandshakeProblem(StatusCodes.Status503ServiceUnavailable, $"vhost '{_options.Name}' holds its maximum of {_options.MaxSessions} sessions.", [], "limit_vhost");
        }

        if (_options.MaxSessionsPerProtocol > 0 && protocol.Sessions >= _options.MaxSessionsPerProtocol)
        {
            return new HandshakeProblem(
                StatusCodes.Status503ServiceUnavailable, $"protocol '{protocol.Name}' holds its maximum of {_options.MaxSessionsPerProtocol} sessions.", [], "limit_protocol");
        }

        if (_options.MaxSessionsPerAddress > 0 && address is not null && _perAddress.GetValueOrDefault(address) >= _options.MaxSessionsPerAddress)
        {
            return new HandshakeProblem(
                StatusCodes.Status429TooManyRequests, $"{address} holds its maximum of {_options.MaxSessionsPerAddress} sessions on vhost '{_options.Name}'.", [], "limit_address");
        }

        return null;
    }

    public void Opened(IPAddress? address)
    {
        if (address is not null)
        {
            _perAddress.AddOrUpdate(address, 1, static (_, count) => count + 1);
        }
    }

    public void Closed(IPAddress? address)
    {
        if (address is not null && _perAddress.AddOrUpdate(address, 0, static (_, count) => count - 1) <= 0)
        {
            _perAddress.TryRemove(KeyValuePair.Create(address, 0));
        }
    }

    public void Dispose() => _handshakeRate?.Dispose();
}
