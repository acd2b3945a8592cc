using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal.Direct;

namespace Vmci.Transport.Tests;

/// <summary>
/// Simulator faults on direct connections (NetMQ's engine on the handed-over socket): a partition holds the engine's
/// completions back — nothing is delivered, nothing is lost — and the heal lets everything through, in order; a reset
/// shuts the socket down and NetMQ reconnects. Runs alone: the staging port's counters are process-wide.
/// </summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class FaultGateTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose()
    {
        _fabric.Sim.Faults.Clear();
        _fabric.Dispose();
    }

    private (PullSocket Pull, PushSocket Push) Pair()
    {
        var pull = _fabric.Socket(new PullSocket());
        pull.VmciOptions().TransportMode = VmciTransportMode.Direct;
        pull.VmciBind("vmci://*:*");
        var push = _fabric.Socket(new PushSocket(), _fabric.Guest);
        push.VmciOptions().TransportMode = VmciTransportMode.Direct;
        push.VmciConnect(Fabric.ToHost(pull.VmciLastEndpoint()!));
        push.SendFrame("up");
        Assert.Equal("up", Delivery.ReceiveString(pull));
        return (pull, push);
    }

    [Fact]
    public void Partition_LiveDirectConnection_HeldWhileCut_EverythingInOrderAfterHeal()
    {
        var (pull, push) = Pair();
        var staged = TrafficGate.Staged;
        _fabric.Sim.Faults.Partition(VmciCid.FirstGuest, VmciCid.Host);
        _fabric.Watchdog.Until(() => TrafficGate.Staged >= staged + 2, "both ends' completions go through the staging port");
        var passed = TrafficGate.Passed;
        for (var i = 0; i < 100; i++)
            push.SendFrame(i.ToString(CultureInfo.InvariantCulture));
        Assert.False(pull.TryReceiveFrameString(TimeSpan.Zero, out _), "a message crossed the partition");
        Assert.Equal(passed, TrafficGate.Passed);

        _fabric.Sim.Faults.Heal(VmciCid.FirstGuest);
        for (var i = 0; i < 100; i++)
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), Delivery.ReceiveString(pull));
        _fabric.Watchdog.Until(() => TrafficGate.Staged == staged, "the staging port is left once healed");
    }

    [Fact]
    public void Reset_LiveDirectConnection_NetMQReconnectsAndDelivers()
    {
        var (pull, push) = Pair();
        _fabric.Sim.Faults.Reset(VmciCid.FirstGuest);
        _fabric.Sim.Faults.Clear(VmciCid.FirstGuest);
        NetMqDeliverEventually(push, pull, "after the reset");
    }

    private static void NetMqDeliverEventually(NetMQSocket sender, NetMQSocket receiver, string text)
    {
        var deadline = DateTime.UtcNow + Watchdog.DefaultTimeout;
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' was not delivered within the watchdog");
            sender.TrySendFrame(TimeSpan.FromMilliseconds(50), text);
            if (receiver.TryReceiveFrameString(TimeSpan.FromMilliseconds(50), out var got))
            {
                Assert.Equal(text, got);
                return;
            }
        }
    }
}
