using System.Diagnostics;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Sim;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>Every fault of <see cref="SimFaults"/>, on the seam (SimNetwork connections), one test each.</summary>
public sealed class FaultTests : IDisposable
{
    private static readonly VsockOptions ShortConnect = new() { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
    private readonly TempFabric _fabric = new();
    private readonly SimNetwork _host;
    private readonly SimNetwork _guest;
    private readonly IVsockListener _listener;

    public FaultTests()
    {
        _host = _fabric.Join(VmciCid.Host);
        _guest = _fabric.Join(5);
        _listener = _guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
    }

    private VsockAddress Target => new(5, _listener.LocalAddress.Port);

    public void Dispose()
    {
        _listener.Dispose();
        _fabric.Dispose();
    }

    private async Task<(IVsockConnection Client, IVsockConnection Server)> PairAsync()
    {
        var accept = _listener.AcceptAsync(TempFabric.Ct).AsTask();
        var client = await _host.ConnectAsync(Target, null, TempFabric.Ct).Guard();
        return (client, await accept.Guard());
    }

    private static async Task<byte[]> ReadExactlyAsync(IVsockConnection c, int count)
    {
        var buffer = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = await c.ReceiveAsync(buffer.AsMemory(read), TempFabric.Ct).Guard();
            Assert.NotEqual(0, n);
            read += n;
        }
        return buffer;
    }

    /// <summary>Gives a stalled operation every chance to (wrongly) complete: it may not within this time.</summary>
    private static async Task AssertStillPendingAsync(Task task) =>
        Assert.NotSame(task, await Task.WhenAny(task, Task.Delay(300, TempFabric.Ct)));

    [Fact]
    public void Add_Faults_VersionedAtomicFileAndList()
    {
        var before = _fabric.Fabric.Faults.Version;
        var a = _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 5) { LatencyMilliseconds = 20, JitterMilliseconds = 5 });
        var b = _fabric.Fabric.Faults.Partition(5, VmciCid.Host);

        Assert.Equal(before + 2, _fabric.Fabric.Faults.Version);
        Assert.Equal([a, b], SimFabric.Open(_fabric.Directory).Faults.List());
        var text = File.ReadAllText(Path.Combine(_fabric.Directory, "faults.json"));
        Assert.Contains("\"kind\": \"partition\"", text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_fabric.Directory, "*.tmp"));
        Assert.Equal(2, _fabric.Fabric.Faults.Clear(5));
        Assert.Empty(_fabric.Fabric.Faults.List());
    }

    [Theory]
    [InlineData(1u, SimFaultKind.Pause)]
    [InlineData(5u, SimFaultKind.Bandwidth)]
    public void Add_MeaninglessFault_EINVAL(uint cid, SimFaultKind kind)
    {
        var e = Assert.Throws<VmciException>(() => _fabric.Fabric.Faults.Add(new SimFault(kind, cid)));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public async Task Latency_OnPair_DelaysEachDirectionAtLeastThatMuch()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 5) { Peer = VmciCid.Host, LatencyMilliseconds = 60, JitterMilliseconds = 10 });
            var clock = Stopwatch.StartNew();
            await client.SendAsync("ping"u8.ToArray(), TempFabric.Ct).Guard();
            await ReadExactlyAsync(server, 4);
            await server.SendAsync("pong"u8.ToArray(), TempFabric.Ct).Guard();
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
            _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Bandwidth, 5) { BytesPerSecond = 256 * 1024 });
            var data = new byte[64 * 1024];
            Random.Shared.NextBytes(data);
            var clock = Stopwatch.StartNew();
            var receive = ReadExactlyAsync(server, data.Length);
            await client.SendAsync(data, TempFabric.Ct).Guard();
            Assert.Equal(data, await receive.Guard());
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
            var pending = server.ReceiveAsync(new byte[16], TempFabric.Ct).AsTask();
            _fabric.Fabric.Faults.Reset(5);

            await Poll.ThrowsErrnoAsync(Errno.ECONNRESET, () => pending);
            await Poll.ThrowsErrnoAsync(Errno.ECONNRESET, () => client.ReceiveAsync(new byte[16], TempFabric.Ct).AsTask());
            await Poll.ThrowsErrnoAsync(Errno.ECONNRESET, () => client.SendAsync(new byte[16], TempFabric.Ct).AsTask());
        }
        var (c2, s2) = await PairAsync();
        using (c2)
        using (s2)
        {
            await c2.SendAsync("after"u8.ToArray(), TempFabric.Ct).Guard();
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
            _fabric.Fabric.Faults.Partition(5, VmciCid.Host);
            var data = new byte[100_000];
            Random.Shared.NextBytes(data);
            var send = client.SendAsync(data, TempFabric.Ct).AsTask();
            var receive = ReadExactlyAsync(server, data.Length);
            await AssertStillPendingAsync(receive);
            await Poll.ThrowsErrnoAsync(Errno.ETIMEDOUT, () => _host.ConnectAsync(Target, ShortConnect, TempFabric.Ct).AsTask());
            var waiting = _host.ConnectAsync(Target, new VsockOptions { ConnectTimeout = TimeSpan.FromSeconds(30) }, TempFabric.Ct).AsTask();

            Assert.Equal(1, _fabric.Fabric.Faults.Heal(5));

            await send.Guard();
            Assert.Equal(data, await receive.Guard());
            using var late = await waiting.Guard();
            using var lateServer = await _listener.AcceptAsync(TempFabric.Ct).Guard();
        }
    }

    [Fact]
    public async Task Partition_OtherPeer_Unaffected()
    {
        _fabric.Fabric.Faults.Partition(5, 7);
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            await client.SendAsync("ok"u8.ToArray(), TempFabric.Ct).Guard();
            Assert.Equal("ok"u8.ToArray(), await ReadExactlyAsync(server, 2));
        }
        await Poll.ThrowsErrnoAsync(Errno.ETIMEDOUT, () => _fabric.Join(7).ConnectAsync(Target, ShortConnect, TempFabric.Ct).AsTask());
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
            _fabric.Fabric.Faults.Pause(5);
            var sends = Task.WhenAll(client.SendAsync(up, TempFabric.Ct).AsTask(), server.SendAsync(down, TempFabric.Ct).AsTask());
            var receiveUp = ReadExactlyAsync(server, up.Length);
            var receiveDown = ReadExactlyAsync(client, down.Length);
            await AssertStillPendingAsync(Task.WhenAny(receiveUp, receiveDown));

            Assert.Equal(1, _fabric.Fabric.Faults.Resume(5));

            await sends.Guard();
            Assert.Equal(up, await receiveUp.Guard());
            Assert.Equal(down, await receiveDown.Guard());
        }
    }

    [Fact]
    public async Task Refuse_NewConnectECONNRESET_LiveCarriesOn_ClearAccepts()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Refuse, 5));
            await Poll.ThrowsErrnoAsync(Errno.ECONNRESET, () => _host.ConnectAsync(Target, null, TempFabric.Ct).AsTask());
            await client.SendAsync("live"u8.ToArray(), TempFabric.Ct).Guard();
            Assert.Equal("live"u8.ToArray(), await ReadExactlyAsync(server, 4));
        }
        _fabric.Fabric.Faults.Clear(5, SimFaultKind.Refuse);
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
            _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.CidChange, 5) { ToCid = 9 });

            await Poll.ThrowsErrnoAsync(Errno.ECONNRESET, () => client.ReceiveAsync(new byte[4], TempFabric.Ct).AsTask());
            Assert.Equal(9u, _guest.GetLocalCid());
            await Poll.ThrowsErrnoAsync(Errno.ENODEV, () => _host.ConnectAsync(Target, null, TempFabric.Ct).AsTask());
            var accept = _listener.AcceptAsync(TempFabric.Ct).AsTask();
            using (var moved = await _host.ConnectAsync(Target with { Cid = 9 }, null, TempFabric.Ct).Guard())
            using (var movedServer = await accept.Guard())
                Assert.Equal(9u, movedServer.LocalAddress.Cid);
        }
        _fabric.Fabric.Faults.Clear(9);
        Assert.Equal(5u, _guest.GetLocalCid());
        var (c2, s2) = await PairAsync();
        c2.Dispose();
        s2.Dispose();
    }

    [Fact]
    public async Task CidChange_ListenerInAnotherProcess_FollowsTheControlFile()
    {
        using var child = Child.StartEcho(_fabric.Directory, 6, null);
        var port = await child.ReadPortAsync();

        _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.CidChange, 6) { ToCid = 11 });

        // The child's listener accepts destination CID 11 only if it read faults.json (another process).
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.VmciOptions().Network = _host;
        req.VmciConnect($"vmci://11:{port}");
        req.SendFrame("across processes");
        Assert.True(req.TryReceiveFrameString(TempFabric.Watchdog, out var reply));
        Assert.Equal("across processes", reply);
    }
}
