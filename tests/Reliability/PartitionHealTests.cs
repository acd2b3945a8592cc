using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>
/// Figure 1: partition → heal over NetMQ (through the vmci relay on the simulator). Host CID 2, guest CID 3; the
/// partition is added while traffic flows and healed once the client has seen it (a timeout, a blocked sender).
/// </summary>
public sealed class PartitionHealTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    private static T Socket<T>(T socket, IVsockNetwork network) where T : NetMQSocket
    {
        socket.Options.Linger = TimeSpan.Zero;
        socket.VmciOptions().Network = network;
        return socket;
    }

    /// <summary>Lazy pirate: a REQ that times out is closed and recreated, and the request sent again.</summary>
    [Fact]
    public async Task ReqRep_LazyPirateAcrossPartition_EveryRequestAnswered()
    {
        var requests = Sizes.Pick(200, 2_000);
        var host = Fabric.Machine(VmciCid.Host);
        var guest = Fabric.Machine(3);
        using var rep = Socket(new ResponseSocket(), host);
        rep.VmciBind("vmci://*:*");
        var endpoint = "vmci://2:" + rep.VmciLastEndpoint()![(rep.VmciLastEndpoint()!.LastIndexOf(':') + 1)..];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Watchdog.Token);
        var server = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (rep.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(50), out var request))
                    rep.SendFrame(request);
            }
        }, Watchdog.Token);

        var answered = 0;
        var timeouts = 0;
        var timeoutsInPartition = 0;
        var partitioned = false;
        var req = Socket(new RequestSocket(), guest);
        req.VmciConnect(endpoint);
        try
        {
            for (var i = 0; i < requests; i++)
            {
                if (i == requests / 3)
                {
                    Fabric.Faults.Partition(3, VmciCid.Host);
                    partitioned = true;
                }
                var request = BitConverter.GetBytes(i);
                while (true)
                {
                    req.SendFrame(request);
                    if (req.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(300), out var reply))
                    {
                        Assert.Equal(request, reply);
                        answered++;
                        break;
                    }
                    timeouts++;
                    req.Dispose();
                    req = Socket(new RequestSocket(), guest);
                    req.VmciConnect(endpoint);
                    if (partitioned && ++timeoutsInPartition >= 2)
                    {
                        Fabric.Faults.Heal(3);
                        partitioned = false;
                    }
                    Assert.True(timeouts < 100, "the partition was healed but requests still time out");
                }
            }
        }
        finally
        {
            req.Dispose();
            await stop.CancelAsync();
            await Watchdog.Guard(server);
        }

        Assert.Equal(requests, answered);
        Assert.True(timeoutsInPartition >= 2, "the partition was never felt");
        TestContext.Current.TestOutputHelper?.WriteLine($"REQ/REP lazy pirate: {requests} requests, {answered} answered, {timeouts} timeouts (retried)");
    }

    /// <summary>PUSH/PULL with sequence numbers and checksums: every message exactly once, in order, intact.</summary>
    [Fact]
    public async Task PushPull_PartitionThenHeal_ExactlyOnceInOrderIntact()
    {
        var messages = Sizes.Pick(20_000, 200_000);
        var host = Fabric.Machine(VmciCid.Host);
        var guest = Fabric.Machine(3);
        using var pull = Socket(new PullSocket(), host);
        pull.VmciBind("vmci://*:*");
        var endpoint = "vmci://2:" + pull.VmciLastEndpoint()![(pull.VmciLastEndpoint()!.LastIndexOf(':') + 1)..];
        using var push = Socket(new PushSocket(), guest);
        push.VmciConnect(endpoint);

        var received = 0;
        var corrupted = 0;
        var outOfOrder = 0;
        var receiver = Task.Run(() =>
        {
            ulong expected = 0;
            while (Volatile.Read(ref received) < messages && !Watchdog.Token.IsCancellationRequested)
            {
                if (!pull.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(100), out var frame))
                    continue;
                if (Framing.Check(frame) is not { } seq)
                    corrupted++;
                else if (seq != expected++)
                    outOfOrder++;
                Interlocked.Increment(ref received);
            }
        }, Watchdog.Token);

        var random = new Random(1);
        var blocked = 0;
        var receivedAtPartitionEnd = -1;
        for (var i = 0; i < messages; i++)
        {
            if (i == messages / 3)
                Fabric.Faults.Partition(3);
            var frame = Framing.Make((ulong)i, random.Next(0, 200), random);
            while (!push.TrySendFrame(TimeSpan.FromMilliseconds(100), frame))
            {
                // The high-water mark is reached: the partition holds everything back. Heal.
                blocked++;
                if (Fabric.Faults.List().Count != 0)
                {
                    receivedAtPartitionEnd = Volatile.Read(ref received);
                    Fabric.Faults.Heal(3);
                }
                Assert.True(blocked < 1000, "the sender stays blocked after the heal");
            }
        }
        if (Fabric.Faults.List().Count != 0)
        {
            receivedAtPartitionEnd = Volatile.Read(ref received);
            Fabric.Faults.Heal(3);
        }
        await Watchdog.Guard(receiver);

        Assert.InRange(receivedAtPartitionEnd, 0, messages - 1); // the partition held messages back
        Assert.Equal(messages, received);
        Assert.Equal(0, corrupted);
        Assert.Equal(0, outOfOrder); // with seq == count at the end: none lost, none duplicated
        TestContext.Current.TestOutputHelper?.WriteLine($"PUSH/PULL: {messages} sent, {received} received, {receivedAtPartitionEnd} before the heal, 0 corrupted, 0 out of order");
    }
}
