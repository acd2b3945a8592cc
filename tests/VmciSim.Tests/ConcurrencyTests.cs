using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>Races that the file system must settle: one winner per port, one reclaimer per stale file, many connectors.</summary>
public sealed class ConcurrencyTests : IDisposable
{
    private readonly TestFabric _fabric = new();
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);

    public void Dispose()
    {
        _watchdog.Dispose();
        _fabric.Dispose();
    }

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
        var nets = Enumerable.Range(0, 8).Select(_ => SimFabric.Open(_fabric.Directory).Join(5)).ToList();

        var results = await _watchdog.Guard(Task.WhenAll(nets.Select(n => Task.Run(() => TryListen(n, 6000)))));

        Assert.Single(results, r => r is not null);
        foreach (var r in results)
            r?.Dispose();
    }

    [Fact]
    public async Task Listen_StaleFileReclaimedByManyAtOnce_ExactlyOneWins()
    {
        _fabric.Machine(5);
        _fabric.LeaveStaleListener(5, 6000);
        var nets = Enumerable.Range(0, 8).Select(_ => SimFabric.Open(_fabric.Directory).Join(5)).ToList();

        var results = await _watchdog.Guard(Task.WhenAll(nets.Select(n => Task.Run(() => TryListen(n, 6000)))));

        var winner = Assert.Single(results, r => r is not null);
        var (client, server) = await VsockStreams.ConnectPairAsync(_fabric.Machine(2), winner!, new VsockAddress(5, 6000), _watchdog.Token);
        client.Dispose();
        server.Dispose();
        winner!.Dispose();
    }

    [Fact]
    public async Task Connect_ManyAtOnce_AllAcceptedWithDistinctPorts()
    {
        using var listener = _fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var host = _fabric.Machine(2);
        const int Count = 40;

        var connects = Enumerable.Range(0, Count)
            .Select(_ => host.ConnectAsync(new VsockAddress(5, listener.LocalAddress.Port), null, _watchdog.Token).AsTask()).ToList();
        var clients = await _watchdog.Guard(Task.WhenAll(connects));
        var servers = new List<IVsockConnection>();
        for (var i = 0; i < Count; i++)
            servers.Add(await _watchdog.Guard(listener.AcceptAsync(_watchdog.Token)));

        Assert.Equal(Count, servers.Select(s => s.RemoteAddress.Port).Distinct().Count());
        Assert.Equal(clients.Select(c => c.LocalAddress.Port).Order(), servers.Select(s => s.RemoteAddress.Port).Order());
        foreach (var c in clients.Concat(servers))
            c.Dispose();
    }
}
