using System.Collections.Immutable;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The context's vhosts: those serving (in creation order) and those being destroyed (part 1 done, part 2 pending).
/// Readers take one immutable snapshot without a lock; the lifecycle changes it under its gate, each change one atomic
/// swap of the snapshot, so a reader never sees a vhost in both lists or in neither while it moves.
/// </summary>
internal sealed class VhostTable
{
    private Snapshot _snapshot = new([], []);

    /// <summary>One consistent view of the table.</summary>
    public sealed record Snapshot(ImmutableArray<Vhost> Serving, ImmutableArray<Vhost> Destroying);

    public Snapshot Current => Volatile.Read(ref _snapshot);

    public ImmutableArray<Vhost> Serving => Current.Serving;

    /// <summary>Serving and being destroyed, for status and leak checks.</summary>
    public IReadOnlyList<Vhost> All
    {
        get
        {
            var snapshot = Current;
            return [.. snapshot.Serving, .. snapshot.Destroying];
        }
    }

    public Vhost? Find(string name)
    {
        foreach (var vhost in Serving)
        {
            if (string.Equals(vhost.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return vhost;
            }
        }

        return null;
    }

    public void Add(Vhost vhost) => Update(s => s with { Serving = s.Serving.Add(vhost) });

    /// <summary>Part 1 of a destruction begins: the vhost is no longer listed as serving.</summary>
    public void Unlist(Vhost vhost) => Update(s => s with { Serving = s.Serving.Remove(vhost), Destroying = s.Destroying.Add(vhost) });

    /// <summary>A re-created vhost takes the place of the one it replaces, which is being destroyed from then on.</summary>
    public void Swap(Vhost replaced, Vhost next)
        => Update(s => s with { Serving = s.Serving.Replace(replaced, next), Destroying = s.Destroying.Add(replaced) });

    /// <summary>Part 2 of a destruction: the vhost leaves the table; false when it had left already.</summary>
    public bool Forget(Vhost vhost)
    {
        var forgotten = false;
        Update(s =>
        {
            forgotten = s.Destroying.Contains(vhost);
            return s with { Destroying = s.Destroying.Remove(vhost) };
        });
        return forgotten;
    }

    private void Update(Func<Snapshot, Snapshot> change)
    {
        while (true)
        {
            var current = Volatile.Read(ref _snapshot);
            if (Interlocked.CompareExchange(ref _snapshot, change(current), current) == current)
            {
                return;
            }
        }
    }
}
