namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A handshake the fast path admitted against the vhost's limits and that they refused: Kestrel's pipeline answers the
/// same request (a connection feature, read once) with this refusal instead of admitting it a second time.
/// </summary>
internal sealed class DecidedRefusal(HandshakeProblem problem)
{
    private HandshakeProblem? _problem = problem;

    /// <summary>The refusal, the first time it is asked for.</summary>
    public HandshakeProblem? Take() => Interlocked.Exchange(ref _problem, null);
}
