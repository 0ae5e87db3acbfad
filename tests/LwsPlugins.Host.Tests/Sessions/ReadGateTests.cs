using LwsPlugins.Host.Sessions;

namespace LwsPlugins.Host.Tests.Sessions;

[TestFixture]
public sealed class ReadGateTests
{
    [Test]
    public void AnOpenGate_HandsOutACompletedWait()
    {
        var gate = new ReadGate();

        Assert.That(gate.IsClosed, Is.False);
        Assert.That(gate.WaitAsync().IsCompleted, Is.True);
    }

    [Test]
    public void TheFirstHoldClosesTheGate_ItOpensWhenTheLastHoldIsReleased()
    {
        var gate = new ReadGate();

        Assert.That(gate.Hold(), Is.True, "the first hold begins a pause");
        Assert.That(gate.Hold(), Is.False, "a second queue over its limit does not begin another");
        var wait = gate.WaitAsync();
        Assert.That(gate.IsClosed, Is.True);

        gate.Release();
        Assert.That(wait.IsCompleted, Is.False, "one queue still holds it");
        gate.Release();
        Assert.That(gate.IsClosed, Is.False);
        Assert.That(wait.Wait(TimeSpan.FromSeconds(5)), Is.True, "the paused receive loop resumes");
    }

    [Test]
    public void AReleaseWithoutAHold_DoesNotOpenTheGateForTheNextHold()
    {
        var gate = new ReadGate();
        gate.Release();

        gate.Hold();

        Assert.That(gate.IsClosed, Is.True);
    }

    [Test]
    public void Disable_OpensAHeldGateForGood_SoAClosingSessionReadsItsClientsCloseFrame()
    {
        var gate = new ReadGate();
        gate.Hold();
        var wait = gate.WaitAsync();

        gate.Disable();

        Assert.That(wait.Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(gate.Hold(), Is.False);
        Assert.That(gate.IsClosed, Is.False);
        gate.Release();
        Assert.That(gate.IsClosed, Is.False, "a queue releasing its old hold changes nothing");
    }
}
