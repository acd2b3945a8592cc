using System.Text;
using Vmci;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>Machines in separate processes that share only the fabric directory.</summary>
public sealed class MultiProcessTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private static uint ParsePort(string line)
    {
        Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
        return uint.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Connect_ToListenerInChildProcess_EchoesAndChildSeesOurAddress()
    {
        using var child = SimPeers.Start("listen", Fabric.Directory, 5);
        var port = ParsePort(await child.ReadLineAsync(Watchdog.Token));
        var host = Fabric.Machine(2);

        using var connection = await Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, port), null, Watchdog.Token));
        await connection.SendAsync("ping"u8.ToArray(), Watchdog.Token);

        Assert.Equal("ping"u8.ToArray(), await connection.ReadExactlyAsync(4, Watchdog.Token));
        Assert.Equal($"ACCEPTED 2 {connection.LocalAddress.Port}", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal(0, await child.StopAsync(Watchdog.Token));
    }

    [Fact]
    public async Task Accept_FromChildProcess_ReportsChildCidAndPort()
    {
        using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync(Watchdog.Token).AsTask();

        using var child = SimPeers.Start("connect", Fabric.Directory, 7, new VsockAddress(2, listener.LocalAddress.Port));
        var local = await child.ReadLineAsync(Watchdog.Token);
        using var server = await Watchdog.Guard(accept);

        Assert.Equal($"LOCAL {VmciCid.Any} {server.RemoteAddress.Port}", local);
        Assert.Equal(7u, server.RemoteAddress.Cid);
        Assert.Equal("hello from 7\n"u8.ToArray(), await server.ReadExactlyAsync(13, Watchdog.Token));
        Assert.Equal(0, await child.StopAsync(Watchdog.Token));
    }

    [Fact]
    public async Task Connect_VmwareTopologyFromEnvironment_GuestToGuestThrowsEnetunreach()
    {
        using var listener = Fabric.Machine(6).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

        using var child = SimPeers.Start("connect", Fabric.Directory, 7, new VsockAddress(6, listener.LocalAddress.Port), topology: "vmware");

        Assert.Equal("ERR ENETUNREACH", await child.ReadLineAsync(Watchdog.Token));
    }

    [Fact]
    public async Task ChildListenerKilled_ConnectThrowsEconnreset_AndPortIsReclaimed()
    {
        var child = SimPeers.Start("listen", Fabric.Directory, 5);
        var port = ParsePort(await child.ReadLineAsync(Watchdog.Token));
        child.Kill();
        child.Dispose();
        Assert.Contains(Path.Combine("5", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), Fabric.Entries());

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(Fabric.Machine(2).ConnectAsync(new VsockAddress(5, port), null, Watchdog.Token)));
        Assert.True(Assert.Single(Assert.Single(Fabric.Fabric.Snapshot(), m => m.Cid == 5).Listeners).IsStale);

        using var reclaimed = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, port));
        Assert.Equal(port, reclaimed.LocalAddress.Port);
    }

    [Fact]
    public async Task ChildPeerKilled_ReceiveReadsEndOfStream_ThenSendThrowsEpipe()
    {
        using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync(Watchdog.Token).AsTask();
        var child = SimPeers.Start("connect", Fabric.Directory, 7, new VsockAddress(2, listener.LocalAddress.Port));
        await child.ReadLineAsync(Watchdog.Token);
        using var server = await Watchdog.Guard(accept);
        Assert.Equal(Encoding.ASCII.GetBytes("hello from 7\n"), await server.ReadExactlyAsync(13, Watchdog.Token));

        child.Kill();
        child.Dispose();

        Assert.Equal(0, await server.ReceiveAsync(new byte[16], Watchdog.Token).AsTask());
        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => Watchdog.Guard(server.SendAsync(new byte[1], Watchdog.Token)));
    }
}

/// <summary>SimNetwork.FromEnvironment and SimFabric's default directory, read in a child process's environment.</summary>
public sealed class EnvironmentTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Fact]
    public async Task FromEnvironment_NoCid_IsTheHostWithTheFabricsTopology()
    {
        Fabric.Fabric.Topology = Vmci.Sim.SimTopology.Vmware;

        using var child = SimPeers.Start("info", Fabric.Directory, cid: null, target: null, topology: null, runtimeDirectory: null);

        Assert.Equal($"FABRIC {Fabric.Directory}", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal("CID 2", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal("TOPOLOGY Vmware", await child.ReadLineAsync(Watchdog.Token));
    }

    [Fact]
    public async Task FromEnvironment_TopologyVariable_IsWrittenToTheFabric()
    {
        using var child = SimPeers.Start("info", Fabric.Directory, "9", target: null, topology: "vmware", runtimeDirectory: null);

        Assert.Equal($"FABRIC {Fabric.Directory}", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal("CID 9", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal("TOPOLOGY Vmware", await child.ReadLineAsync(Watchdog.Token));
        Assert.Equal(Vmci.Sim.SimTopology.Vmware, Fabric.Fabric.Topology);
    }

    [Fact]
    public async Task Open_NoFabricVariable_UsesXdgRuntimeDir()
    {
        using var child = SimPeers.Start("info", fabric: null, "5", target: null, topology: null, runtimeDirectory: Fabric.Directory);

        Assert.Equal($"FABRIC {Path.Combine(Fabric.Directory, "vmci-sim")}", await child.ReadLineAsync(Watchdog.Token));
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("1", null)]
    [InlineData("5", "mesh")]
    public async Task FromEnvironment_BadVariable_ThrowsEinval(string cid, string? topology)
    {
        using var child = SimPeers.Start("info", Fabric.Directory, cid, target: null, topology: topology, runtimeDirectory: null);

        Assert.Equal("ERR EINVAL", await child.ReadLineAsync(Watchdog.Token));
    }
}
