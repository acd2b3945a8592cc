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
