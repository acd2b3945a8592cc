using Integration.Harness;
using Integration.Peer;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;
using static Integration.Harness.Scenario;
using static Integration.Scenarios.ZmqPatternScenarios;

namespace Integration.Scenarios;

/// <summary>
/// ZeroMQ over <c>vmci://</c> when a guest reboots (its peer is stopped and started again with the same CID
/// and port) and under the <c>vmware</c> topology (a guest reaches the host, never another guest). One
/// suite; each flavour supplies <see cref="Peers"/>.
/// </summary>
public abstract class ZmqResilienceScenarios
{
    /// <summary>A REQ resends a request after this long without a reply (on a new socket).</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Starts and counts this flavour's peers.</summary>
    protected abstract IPeerLauncher Peers { get; }

    [Fact]
    public async Task ReqRep_GuestRestarted_EveryRequestAnsweredOnce()
    {
        const int before = 10;
        const int total = 20;
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;
        using var rebooted = new SemaphoreSlim(0);

        var first = await Peers.StartAsync(fabric, 3, ["zmq", "rep", "bind", "vmci://*:*", "0"], waitForReady: true, ct);
        PeerResult firstServed;
        await using (first)
        {
            var endpoint = ReadyEndpoint(first);

            // The host's REQ loop pauses after request 9 is answered, until the guest has rebooted.
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var requests = Task.Run(
                () => ZmqRoles.Request(
                    () => ZmqRoles.Open("req", host, bind: false, endpoint.ToString()), VmciCid.Host, 0, total, ReplyTimeout, int.MaxValue, ct, seq =>
                    {
                        if (seq == before - 1)
                        {
                            answered.SetResult();
                            rebooted.Wait(ct);
                        }
                    }),
                ct);
            await answered.Task.WaitAsync(ct);
            firstServed = Succeeded(await first.StopAsync(ct));
            await first.DisposeAsync();
            Assert.Equal(0, await Peers.CountAsync(fabric, ct));

            // The host sends request 10 while the guest is down; then the guest comes back on the same CID and port.
            rebooted.Release();
            await using var second = await Peers.StartAsync(fabric, 3, ["zmq", "rep", "bind", endpoint.ToString().Replace("vmci://3:", "vmci://*:", StringComparison.Ordinal), "0"], waitForReady: true, ct);
            Assert.Equal(endpoint, ReadyEndpoint(second));
            Assert.Equal(1, await Peers.CountAsync(fabric, ct));
            var replies = await requests.WaitAsync(ct);
            var secondServed = Succeeded(await second.StopAsync(ct));

            Assert.Equal((total, PeerResult.Range(0, total - 1)), (replies.Received, replies.Seqs));
            Assert.Equal(PeerResult.Range(0, before - 1), firstServed.Seqs);
            Assert.Equal(PeerResult.Range(before, total - 1), secondServed.Seqs);

            // A resent request may have been served twice (its first reply lost): at least once, at most once more per resend.
            Assert.InRange(firstServed.Received + secondServed.Received, total, total + replies.Resends);
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    [Fact]
    public async Task VmwareTopology_GuestToGuest_RefusedWhileGuestToHostWorks()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        fabric.Fabric.Topology = SimTopology.Vmware;
        var host = fabric.Host;
        using var hostRep = HostRole.Start(() => ZmqRoles.Open("rep", host, bind: true, "vmci://*:*"), (s, stop) => ZmqRoles.Echo(s, VmciCid.Host, 0, stop, ct), ct);
        var hostEndpoint = VmciEndpoint.Parse(await hostRep.Endpoint.WaitAsync(ct));
        using var hostListener = host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

        await using var guestRep = await Peers.StartAsync(fabric, 3, ["zmq", "rep", "bind", "vmci://*:*", "1", "hold"], waitForReady: true, ct);
        var guestEndpoint = ReadyEndpoint(guestRep);
        await using var probes = await PeerGroup.StartAsync(
            Peers,
            fabric,
            [4, 5],
            cid => cid == 4
                ? ["vsock-probe", Arg(guestEndpoint.Cid), Arg(guestEndpoint.Port)]
                : ["vsock-probe", Arg(VmciCid.Host), Arg(hostListener.LocalAddress.Port)],
            waitForReady: false,
            ct);
        var accepted = await hostListener.AcceptAsync(ct);
        accepted.Dispose();
        var probed = (await probes.WaitForExitAsync(ct)).Select(Succeeded).ToList();

        // At NetMQ level: a guest's requests to a guest are never delivered; to the host they are answered.
        await using var clients = await PeerGroup.StartAsync(
            Peers,
            fabric,
            [6, 7],
            cid => cid == 6
                ? ["zmq", "req", "connect", guestEndpoint.ToString(), "1", $"timeout={(int)ReplyTimeout.TotalMilliseconds}", "retries=0"]
                : ["zmq", "req", "connect", hostEndpoint.ToString(), "5"],
            waitForReady: false,
            ct);
        var requested = (await clients.WaitForExitAsync(ct)).Select(Succeeded).ToList();
        var hostToGuest = await Task.Run(
            () => ZmqRoles.Request(() => ZmqRoles.Open("req", host, bind: false, guestEndpoint.ToString()), VmciCid.Host, 100, 1, null, 0, ct), ct);
        var guestServed = Succeeded(await guestRep.StopAsync(ct));
        var hostServed = await hostRep.FinishAsync();

        Assert.Equal(["ENETUNREACH", "none"], probed.Select(p => p.Errno));
        Assert.Equal(0, requested[0].Received);
        Assert.Equal((5, PeerResult.Range(0, 4)), (requested[1].Received, requested[1].Seqs));
        Assert.Equal((5, PeerResult.Range(0, 4)), (hostServed.Received, hostServed.Seqs));
        Assert.Equal(1, hostToGuest.Received);
        Assert.Equal((1, PeerResult.Range(100, 100)), (guestServed.Received, guestServed.Seqs));
    }
}
