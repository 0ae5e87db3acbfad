using System.Net;
using System.Threading.RateLimiting;
using LwsPlugins.Host.Configuration;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A vhost's admission limits for WebSocket handshakes: sessions per vhost, per protocol and per client address, and
/// the handshake rate per client address (a token bucket from System.Threading.RateLimiting). A handshake is checked
/// and its slots taken in one step, so concurrent handshakes cannot together pass a limit. Only what a configured limit
/// needs is counted: with no session limit set, a handshake takes no lock and its session holds no admission.
/// </summary>
internal sealed class SessionLimits : IDisposable
{
    private readonly List<IDisposable> _replacedRates = [];
    private volatile VhostOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<VhostProtocol, int> _perProtocol = [];
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private volatile PartitionedRateLimiter<IPAddress>? _handshakeRate;
    private int _sessions;

    public SessionLimits(VhostOptions options)
    {
        _options = options;
        _handshakeRate = CreateHandshakeRate(options.HandshakesPerSecondPerAddress);
    }

    /// <summary>
    /// Takes the limits of a changed definition. Sessions admitted before keep their slots and release them as they
    /// were counted; a limit the change adds counts the sessions admitted from then on.
    /// </summary>
    public void Reconfigure(VhostOptions options)
    {
        var previous = _options;
        _options = options;
        if (previous.HandshakesPerSecondPerAddress != options.HandshakesPerSecondPerAddress)
        {
            var replaced = _handshakeRate;
            _handshakeRate = CreateHandshakeRate(options.HandshakesPerSecondPerAddress);
            if (replaced is not null)
            {
                // A handshake may be in the old limiter right now: it is disposed with the vhost, not under it.
                lock (_gate)
                {
                    _replacedRates.Add(replaced);
                }
            }
        }
    }

    private static PartitionedRateLimiter<IPAddress>? CreateHandshakeRate(int perSecond)
    {
        if (perSecond <= 0)
        {
            return null;
        }

        return PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(
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

    /// <summary>
    /// Admits a handshake from <paramref name="address"/> for <paramref name="protocol"/>, taking its slots until
    /// <paramref name="admission"/> is disposed, or says why it must be refused (then nothing is taken).
    /// </summary>
    public HandshakeProblem? TryAdmit(VhostProtocol protocol, IPAddress? address, out IDisposable? admission)
    {
        admission = null;
        var options = _options;
        if (_handshakeRate is { } handshakeRate && address is not null)
        {
            using var lease = handshakeRate.AttemptAcquire(address);
            if (!lease.IsAcquired)
            {
                return new HandshakeProblem(
                    StatusCodes.Status429TooManyRequests, $"more than {options.HandshakesPerSecondPerAddress} handshakes per second from {address}.", [("Retry-After", "1")], "rate");
            }
        }

        var countProtocol = options.MaxSessionsPerProtocol > 0;
        var countAddress = options.MaxSessionsPerAddress > 0 && address is not null;
        if (options.MaxSessions <= 0 && !countProtocol && !countAddress)
        {
            return null;
        }

        lock (_gate)
        {
            if (options.MaxSessions > 0 && _sessions >= options.MaxSessions)
            {
                return new HandshakeProblem(StatusCodes.Status503ServiceUnavailable, $"vhost '{options.Name}' holds its maximum of {options.MaxSessions} sessions.", [], "limit_vhost");
            }

            var ofProtocol = countProtocol ? _perProtocol.GetValueOrDefault(protocol) : 0;
            if (countProtocol && ofProtocol >= options.MaxSessionsPerProtocol)
            {
                return new HandshakeProblem(
                    StatusCodes.Status503ServiceUnavailable, $"protocol '{protocol.Name}' holds its maximum of {options.MaxSessionsPerProtocol} sessions.", [], "limit_protocol");
            }

            var ofAddress = countAddress ? _perAddress.GetValueOrDefault(address!) : 0;
            if (countAddress && ofAddress >= options.MaxSessionsPerAddress)
            {
                return new HandshakeProblem(
                    StatusCodes.Status429TooManyRequests, $"{address} holds its maximum of {options.MaxSessionsPerAddress} sessions on vhost '{options.Name}'.", [], "limit_address");
            }

            _sessions++;
            if (countProtocol)
            {
                _perProtocol[protocol] = ofProtocol + 1;
            }

            if (countAddress)
            {
                _perAddress[address!] = ofAddress + 1;
            }
        }

        admission = new Admission(this, countProtocol ? protocol : null, countAddress ? address : null);
        return null;
    }

    private void Release(VhostProtocol? protocol, IPAddress? address)
    {
        lock (_gate)
        {
            _sessions--;
            if (protocol is not null)
            {
                Decrement(_perProtocol, protocol);
            }

            if (address is not null)
            {
                Decrement(_perAddress, address);
            }
        }
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        var left = counts[key] - 1;
        if (left == 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = left;
        }
    }

    public void Dispose()
    {
        _handshakeRate?.Dispose();
        foreach (var replaced in _replacedRates)
        {
            replaced.Dispose();
        }
    }

    private sealed class Admission(SessionLimits limits, VhostProtocol? protocol, IPAddress? address) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limits.Release(protocol, address);
            }
        }
    }
}
