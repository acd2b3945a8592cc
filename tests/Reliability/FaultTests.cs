using System.Diagnostics;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Sim;
using Vmci.TestKit;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>Every fault of <see cref="SimFaults"/>, on the seam (SimNetwork connections), one test each.</summary>
public sealed class FaultTests : FabricTestBase
{
    private static readonly VsockOptions ShortConnect = new() { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
    private readonly SimNetwork _host;
    private readonly SimNetwork _guest;
    private readonly IVsockListener _listener;

    public FaultTests()
        : base(new TestFabric(), Sizes.StartWatchdog())
    {
        _host = Fabric.Machine(VmciCid.Host);
        _guest = Fabric.Machine(5);
        _listener = _guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
    }

    private VsockAddress Target => new(5, _listener.LocalAddress.Port);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _listener.Dispose();
        base.Dispose(disposing);
    }

    private Task<ConnectedPair> PairAsync() => VsockStreams.ConnectPairAsync(_host, _listener, Target, Watchdog.Token);

    private Task<byte[]> ReadExactlyAsync(IVsockConnection c, int count) => Watchdog.Guard(c.ReadExactlyAsync(count, Watchdog.Token));

    /// <summary>Gives a stalled operation every chance to (wrongly) complete: it may not within this time.</summary>
    private async Task AssertStillPendingAsync(Task task) =>
        Assert.NotSame(task, await Task.WhenAny(task, Task.Delay(300, Watchdog.Token)));

    [Fact]
    public void Add_Faults_VersionedAtomicFileAndList()
    {
        var before = Fabric.Faults.Version;
        var a = Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 5) { LatencyMilliseconds = 20, JitterMilliseconds = 5 });
        var b = Fabric.Faults.Partition(5, VmciCid.Host);

        Assert.Equal(before + 2, Fabric.Faults.Version);
        Assert.Equal([a, b], SimFabric.Open(Fabric.Directory).Faults.List());
        var text = File.ReadAllText(Path.Combine(Fabric.Directory, "faults.json"));
        Assert.Contains("\"kind\": \"partition\"", text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Fabric.Directory, "*.tmp"));
        Assert.Equal(2, Fabric.Faults.Clear(5));
        Assert.Empty(Fabric.Faults.List());
    }

    [Theory]
    [InlineData(1u, SimFaultKind.Pause)]
    [InlineData(5u, SimFaultKind.Bandwidth)]
    public void Add_MeaninglessFault_EINVAL(uint cid, SimFaultKind kind)
    {
        var e = Assert.Throws<VmciException>(() => Fabric.Faults.Add(new SimFault(kind, cid)));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public async Task Latency_OnPair_DelaysEachDirectionAtLeastThatMuch()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 5) { Peer = VmciCid.Host, LatencyMilliseconds = 60, JitterMilliseconds = 10 });
            var clock = Stopwatch.StartNew();
            await Watchdog.Guard(client.SendAsync("ping"u8.ToArray(), Watchdog.Token));
            await ReadExactlyAsync(server, 4);
            await Watchdog.Guard(server.SendAsync("pong"u8.ToArray(), Watchdog.Token));
            Assert.Equal("pong"u8.ToArray(), await ReadExactlyAsync(client, 4));
            Assert.True(clock.ElapsedMilliseconds >= 2 * 50, $"round trip {clock.ElapsedMilliseconds} ms with 60±10 ms each way");
        }
    }

    [Fact]
    public async Task Bandwidth_Capped_TakesAtLeastSizeOverRate_AndDeliversIntact()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            Fabric.Faults.Add(new SimFault(SimFaultKind.Bandwidth, 5) { BytesPerSecond = 256 * 1024 });
            var data = new byte[64 * 1024];
            Random.Shared.NextBytes(data);
            var clock = Stopwatch.StartNew();
            var receive = ReadExactlyAsync(server, data.Length);
            await Watchdog.Guard(client.SendAsync(data, Watchdog.Token));
            Assert.Equal(data, await Watchdog.Guard(receive));
            Assert.True(clock.ElapsedMilliseconds >= 200, $"64 KiB at 256 KiB/s took {clock.ElapsedMilliseconds} ms");
        }
    }

    [Fact]
    public async Task Reset_LiveConnection_BothEndsECONNRESET_NewConnectsWork()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            var pending = server.ReceiveAsync(new byte[16], Watchdog.Token).AsTask();
            Fabric.Faults.Reset(5);

            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(pending));
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(client.ReceiveAsync(new byte[16], Watchdog.Token)));
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(client.SendAsync(new byte[16], Watchdog.Token)));
        }
        var (c2, s2) = await PairAsync();
        using (c2)
        using (s2)
        {
            await Watchdog.Guard(c2.SendAsync("after"u8.ToArray(), Watchdog.Token));
            Assert.Equal("after"u8.ToArray(), await ReadExactlyAsync(s2, 5));
        }
    }

    [Fact]
    public async Task Partition_LiveStallsNewTimesOut_HealDeliversEverything()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            Fabric.Faults.Partition(5, VmciCid.Host);
            var data = new byte[100_000];
            Random.Shared.NextBytes(data);
            var send = client.SendAsync(data, Watchdog.Token).AsTask();
            var receive = ReadExactlyAsync(server, data.Length);
            await AssertStillPendingAsync(receive);
            await VmciAssert.ThrowsAsync(Errno.ETIMEDOUT, () => Watchdog.Guard(_host.ConnectAsync(Target, ShortConnect, Watchdog.Token)));
            var waiting = _host.ConnectAsync(Target, new VsockOptions { ConnectTimeout = TimeSpan.FromSeconds(30) }, Watchdog.Token).AsTask();

            Assert.Equal(1, Fabric.Faults.Heal(5));

            await Watchdog.Guard(send);
            Assert.Equal(data, await Watchdog.Guard(receive));
            using var late = await Watchdog.Guard(waiting);
            using var lateServer = await Watchdog.Guard(_listener.AcceptAsync(Watchdog.Token));
        }
    }

    [Fact]
    public async Task Partition_OtherPeer_Unaffected()
    {
        Fabric.Faults.Partition(5, 7);
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            await Watchdog.Guard(client.SendAsync("ok"u8.ToArray(), Watchdog.Token));
            Assert.Equal("ok"u8.ToArray(), await ReadExactlyAsync(server, 2));
        }
        await VmciAssert.ThrowsAsync(Errno.ETIMEDOUT, () => Watchdog.Guard(Fabric.Machine(7).ConnectAsync(Target, ShortConnect, Watchdog.Token)));
    }

    [Fact]
    public async Task Pause_StallsBothDirections_ResumeLosesNothing()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            var up = new byte[1 << 20];
            var down = new byte[1 << 20];
            Random.Shared.NextBytes(up);
            Random.Shared.NextBytes(down);
            Fabric.Faults.Pause(5);
            var sends = Task.WhenAll(client.SendAsync(up, Watchdog.Token).AsTask(), server.SendAsync(down, Watchdog.Token).AsTask());
            var receiveUp = ReadExactlyAsync(server, up.Length);
            var receiveDown = ReadExactlyAsync(client, down.Length);
            await AssertStillPendingAsync(Task.WhenAny(receiveUp, receiveDown));

            Assert.Equal(1, Fabric.Faults.Resume(5));

            await Watchdog.Guard(sends);
            Assert.Equal(up, await Watchdog.Guard(receiveUp));
            Assert.Equal(down, await Watchdog.Guard(receiveDown));
        }
    }

    [Fact]
    public async Task Refuse_NewConnectECONNRESET_LiveCarriesOn_ClearAccepts()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            Fabric.Faults.Add(new SimFault(SimFaultKind.Refuse, 5));
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(_host.ConnectAsync(Target, null, Watchdog.Token)));
            await Watchdog.Guard(client.SendAsync("live"u8.ToArray(), Watchdog.Token));
            Assert.Equal("live"u8.ToArray(), await ReadExactlyAsync(server, 4));
        }
        Fabric.Faults.Clear(5, SimFaultKind.Refuse);
        var (c2, s2) = await PairAsync();
        c2.Dispose();
        s2.Dispose();
    }

    [Fact]
    public async Task CidChange_ListenersMove_LiveReset_OldCidENODEV_ClearMovesBack()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            Fabric.Faults.Add(new SimFault(SimFaultKind.CidChange, 5) { ToCid = 9 });

            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(client.ReceiveAsync(new byte[4], Watchdog.Token)));
            Assert.Equal(9u, _guest.GetLocalCid());
            await VmciAssert.ThrowsAsync(Errno.ENODEV, () => Watchdog.Guard(_host.ConnectAsync(Target, null, Watchdog.Token)));
            var accept = _listener.AcceptAsync(Watchdog.Token).AsTask();
            using (var moved = await Watchdog.Guard(_host.ConnectAsync(Target with { Cid = 9 }, null, Watchdog.Token)))
            using (var movedServer = await Watchdog.Guard(accept))
                Assert.Equal(9u, movedServer.LocalAddress.Cid);
        }
        Fabric.Faults.Clear(9);
        Assert.Equal(5u, _guest.GetLocalCid());
        var (c2, s2) = await PairAsync();
        c2.Dispose();
        s2.Dispose();
    }

    [Fact]
    public async Task CidChange_ListenerInAnotherProcess_FollowsTheControlFile()
    {
        using var child = EchoPeer.Start(Fabric, 6, null);
        var port = await EchoPeer.ReadPortAsync(child, Watchdog.Token);

        Fabric.Faults.Add(new SimFault(SimFaultKind.CidChange, 6) { ToCid = 11 });

        // The child's listener accepts destination CID 11 only if it read faults.json (another process).
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.VmciOptions().Network = _host;
        req.VmciConnect($"vmci://11:{port}");
        req.SendFrame("across processes");
        Assert.True(req.TryReceiveFrameString(Watchdog.Remaining, out var reply));
        Assert.Equal("across processes", reply);
    }
}
