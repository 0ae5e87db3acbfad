using System.Collections.Immutable;

namespace LwsPlugins.Host.Backplane;

/// <summary>Connects in-process backplanes: what one publishes goes to all of them.</summary>
internal sealed class InProcessBus
{
    private ImmutableArray<InProcessBackplane> _members = [];

    public int Count => _members.Length;

    public void Add(InProcessBackplane backplane) => ImmutableInterlocked.Update(ref _members, static (m, b) => m.Add(b), backplane);

    public void Remove(InProcessBackplane backplane) => ImmutableInterlocked.Update(ref _members, static (m, b) => m.Remove(b), backplane);

    public void Publish(string channel, byte[] frame)
    {
        foreach (var member in _members)
        {
            member.Receive(channel, frame);
        }
    }
}
