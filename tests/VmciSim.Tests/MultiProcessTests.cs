using System.Text;
using Vmci;

namespace VmciSim.Tests;

/// <summary>Machines in separate processes that share only the fabric directory.</summary>
public sealed class MultiProcessTests : IDisposable
{
    private readonly TempFabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    private static uint ParsePort(string line)
    {
        Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
        return uint.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Connect_ToListenerInChildProcess_EchoesAndChildSeesOurAddress()
    {
        using var child = PeerProcess.Start("listen", _fabric.Directory, 5);
        var port = ParsePort(await child.ReadLineAsync());
        var host = _fabric.Join(2);

        using var connection = await host.ConnectAsync(new VsockAddress(5, port), null, TempFabric.Ct).AsTask().WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
        await connection.SendAsync("ping"u8.ToArray(), TempFabric.Ct);

        Assert.Equal("ping"u8.ToArray(), await Sim.ReadExactlyAsync(connection, 4));
        Assert.Equal($"ACCEPTED 2 {connection.LocalAddress.Port}", await child.ReadLineAsync());
        Assert.Equal(0, await child.StopAsync());
    }

    [Fact]
    public async Task Accept_FromChildProcess_ReportsChildCidAndPort()
    {
        using var listener = _fabric.Join(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync(TempFabric.Ct).AsTask();

        using var child = PeerProcess.Start("connect", _fabric.Directory, 7, new VsockAddress(2, listener.LocalAddress.Port));
        var local = await child.ReadLineAsync();
        using var server = await accept.WaitAsync(TempFabric.Watchdog, TempFabric.Ct);

        Assert.Equal($"LOCAL {VmciCid.Any} {server.RemoteAddress.Port}", local);
        Assert.Equal(7u, server.RemoteAddress.Cid);
        Assert.Equal("hello from 7\n"u8.ToArray(), await Sim.ReadExactlyAsync(server, 13));
        Assert.Equal(0, await child.StopAsync());
    }

    [Fact]
    public async Task Connect_VmwareTopologyFromEnvironment_GuestToGuestThrowsEnetunreach()
    {
        using var listener = _fabric.Join(6).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

        using var child = PeerProcess.Start("connect", _fabric.Directory, 7, new VsockAddress(6, listener.LocalAddress.Port), topology: "vmware");

        Assert.Equal("ERR ENETUNREACH", await child.ReadLineAsync());
    }

    [Fact]
    public async Task ChildListenerKilled_ConnectThrowsEconnreset_AndPortIsReclaimed()
    {
        var child = PeerProcess.Start("listen", _fabric.Directory, 5);
        var port = ParsePort(await child.ReadLineAsync());
        child.Kill();
        child.Dispose();
        Assert.Contains(Path.Combine("5", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), _fabric.Entries());

        await Sim.ThrowsErrnoAsync(Errno.ECONNRESET, () => _fabric.Join(2).ConnectAsync(new VsockAddress(5, port), null, TempFabric.Ct).AsTask());
        Assert.True(Assert.Single(Assert.Single(_fabric.Fabric.Snapshot(), m => m.Cid == 5).Listeners).IsStale);

        using var reclaimed = _fabric.Join(5).Listen(new VsockAddress(VmciCid.Any, port));
        Assert.Equal(port, reclaimed.LocalAddress.Port);
    }

    [Fact]
    public async Task ChildPeerKilled_ReceiveReadsEndOfStream_ThenSendThrowsEpipe()
    {
        using var listener = _fabric.Join(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync(TempFabric.Ct).AsTask();
        var child = PeerProcess.Start("connect", _fabric.Directory, 7, new VsockAddress(2, listener.LocalAddress.Port));
        await child.ReadLineAsync();
        using var server = await accept.WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
        Assert.Equal(Encoding.ASCII.GetBytes("hello from 7\n"), await Sim.ReadExactlyAsync(server, 13));

        child.Kill();
        child.Dispose();

        Assert.Equal(0, await Sim.ReceiveAsync(server, new byte[16]));
        await Sim.ThrowsErrnoAsync(Errno.EPIPE, () => server.SendAsync(new byte[1], TempFabric.Ct).AsTask());
    }
}

/// <summary>SimNetwork.FromEnvironment and SimFabric's default directory, read in a child process's environment.</summary>
public sealed class EnvironmentTests : IDisposable
{
    private readonly TempFabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public async Task FromEnvironment_NoCid_IsTheHostWithTheFabricsTopology()
    {
        _fabric.Fabric.Topology = Vmci.Sim.SimTopology.Vmware;

        using var child = PeerProcess.Start("info", _fabric.Directory, cid: null, target: null, topology: null, runtimeDirectory: null);

        Assert.Equal($"FABRIC {_fabric.Directory}", await child.ReadLineAsync());
        Assert.Equal("CID 2", await child.ReadLineAsync());
        Assert.Equal("TOPOLOGY Vmware", await child.ReadLineAsync());
    }

    [Fact]
    public async Task FromEnvironment_TopologyVariable_IsWrittenToTheFabric()
    {
        using var child = PeerProcess.Start("info", _fabric.Directory, "9", target: null, topology: "vmware", runtimeDirectory: null);

        Assert.Equal($"FABRIC {_fabric.Directory}", await child.ReadLineAsync());
        Assert.Equal("CID 9", await child.ReadLineAsync());
        Assert.Equal("TOPOLOGY Vmware", await child.ReadLineAsync());
        Assert.Equal(Vmci.Sim.SimTopology.Vmware, _fabric.Fabric.Topology);
    }

    [Fact]
    public async Task Open_NoFabricVariable_UsesXdgRuntimeDir()
    {
        using var child = PeerProcess.Start("info", fabric: null, "5", target: null, topology: null, runtimeDirectory: _fabric.Directory);

        Assert.Equal($"FABRIC {Path.Combine(_fabric.Directory, "vmci-sim")}", await child.ReadLineAsync());
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("1", null)]
    [InlineData("5", "mesh")]
    public async Task FromEnvironment_BadVariable_ThrowsEinval(string cid, string? topology)
    {
        using var child = PeerProcess.Start("info", _fabric.Directory, cid, target: null, topology: topology, runtimeDirectory: null);

        Assert.Equal("ERR EINVAL", await child.ReadLineAsync());
    }
}
