using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>Races that the file system must settle: one winner per port, one reclaimer per stale file, many connectors.</summary>
public sealed class ConcurrencyTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private static IVsockListener? TryListen(SimNetwork net, uint port)
    {
        try
        {
            return net.Listen(new VsockAddress(VmciCid.Any, port));
        }
        catch (VmciException e) when (e.Errno == Errno.EADDRINUSE)
        {
            return null;
        }
    }

    [Fact]
    public async Task Listen_SamePortFromManyFabricObjects_ExactlyOneWins()
    {
        var nets = Enumerable.Range(0, 8).Select(_ => SimFabric.Open(Fabric.Directory).Join(5)).ToList();

        var results = await Watchdog.Guard(Task.WhenAll(nets.Select(n => Task.Run(() => TryListen(n, 6000)))));

        Assert.Single(results, r => r is not null);
        foreach (var r in results)
            r?.Dispose();
    }

    [Fact]
    public async Task Listen_StaleFileReclaimedByManyAtOnce_ExactlyOneWins()
    {
        Fabric.Machine(5);
        Fabric.LeaveStaleListener(5, 6000);
        var nets = Enumerable.Range(0, 8).Select(_ => SimFabric.Open(Fabric.Directory).Join(5)).ToList();

        var results = await Watchdog.Guard(Task.WhenAll(nets.Select(n => Task.Run(() => TryListen(n, 6000)))));

        var winner = Assert.Single(results, r => r is not null);
        var (client, server) = await VsockStreams.ConnectPairAsync(Fabric.Machine(2), winner!, new VsockAddress(5, 6000), Watchdog.Token);
        client.Dispose();
        server.Dispose();
        winner!.Dispose();
    }

    [Fact]
    public async Task Connect_ManyAtOnce_AllAcceptedWithDistinctPorts()
    {
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var host = Fabric.Machine(2);
        const int Count = 40;

        var connects = Enumerable.Range(0, Count)
            .Select(_ => host.ConnectAsync(new VsockAddress(5, listener.LocalAddress.Port), null, Watchdog.Token).AsTask()).ToList();
        var clients = await Watchdog.Guard(Task.WhenAll(connects));
        var servers = new List<IVsockConnection>();
        for (var i = 0; i < Count; i++)
            servers.Add(await Watchdog.Guard(listener.AcceptAsync(Watchdog.Token)));

        Assert.Equal(Count, servers.Select(s => s.RemoteAddress.Port).Distinct().Count());
        Assert.Equal(clients.Select(c => c.LocalAddress.Port).Order(), servers.Select(s => s.RemoteAddress.Port).Order());
        foreach (var c in clients.Concat(servers))
            c.Dispose();
    }
}
