using Integration.Harness;
using Integration.Peer;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using static Integration.Harness.Scenario;

namespace Integration.Scenarios;

/// <summary>
/// The ZeroMQ patterns over <c>vmci://</c> between simulated VMs (peers running <c>peer zmq …</c>, see
/// <see cref="ZmqPeer"/>) and the host (the test, CID 2): REQ/REP both ways, PUB/SUB fan-out, a PUSH/PULL
/// pipeline and ROUTER/DEALER identities. Every message is accounted for. One suite; each flavour supplies
/// <see cref="Peers"/>.
/// </summary>
public abstract class ZmqPatternScenarios
{
    /// <summary>Messages per exchange.</summary>
    private const int Messages = 200;

    /// <summary>Starts and counts this flavour's peers.</summary>
    protected abstract IPeerLauncher Peers { get; }

    [Fact]
    public async Task ReqRep_GuestBinds_EveryHostRequestAnswered()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;

        await using (var guest = await Peers.StartAsync(fabric, 3, ["zmq", "rep", "bind", "vmci://*:*", Arg(Messages), "hold"], waitForReady: true, ct))
        {
            var endpoint = ReadyEndpoint(guest);
            Assert.Equal(3u, endpoint.Cid);
            Assert.Equal(1, await Peers.CountAsync(fabric, ct));

            var requests = await Task.Run(
                () => ZmqRoles.Request(() => ZmqRoles.Open("req", host, bind: false, endpoint.ToString()), VmciCid.Host, 0, Messages, null, 0, ct), ct);
            var served = Succeeded(await guest.StopAsync(ct));

            Assert.Equal((Messages, PeerResult.Range(0, Messages - 1)), (requests.Received, requests.Seqs));
            Assert.Equal((Messages, PeerResult.Range(0, Messages - 1)), (served.Received, served.Seqs));
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    [Fact]
    public async Task ReqRep_HostBinds_EveryGuestRequestAnswered()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;
        using var rep = HostRole.Start(() => ZmqRoles.Open("rep", host, bind: true, "vmci://*:*"), (s, stop) => ZmqRoles.Echo(s, VmciCid.Host, 0, stop, ct), ct);
        var endpoint = VmciEndpoint.Parse(await rep.Endpoint.WaitAsync(ct));

        await using (var guest = await Peers.StartAsync(fabric, 3, ["zmq", "req", "connect", endpoint.ToString(), Arg(Messages)], waitForReady: false, ct))
        {
            var requests = Succeeded(await guest.WaitForExitAsync(ct));
            var served = await rep.FinishAsync();

            Assert.Equal(2u, endpoint.Cid);
            Assert.Equal((Messages, PeerResult.Range(0, Messages - 1)), (requests.Received, requests.Seqs));
            Assert.Equal((Messages, PeerResult.Range(0, Messages - 1)), (served.Received, served.Seqs));
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    [Fact]
    public async Task PubSub_HostToEightGuests_EveryMessageInEverySubscriber()
    {
        const int subscribers = 8;
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;

        // XPUB_VERBOSE hands the host one subscription per subscriber: once all 8 arrived, every SUB is
        // connected and subscribed, so nothing published afterwards can be lost to a slow joiner.
        using var pub = HostRole.Start(
            () => ZmqRoles.Open("xpub", host, bind: true, "vmci://*:*"), (s, _) => ZmqRoles.Publish((XPublisherSocket)s, VmciCid.Host, subscribers, Messages, ct), ct);
        var endpoint = await pub.Endpoint.WaitAsync(ct);
        await using (var guests = await PeerGroup.StartAsync(
            Peers, fabric, Cids(3, subscribers), _ => ["zmq", "sub", "connect", endpoint, Arg(Messages), "hold"], waitForReady: true, ct))
        {
            // Held subscribers stay until stopped; a stopped one still receives its count before it exits.
            Assert.Equal(subscribers, await Peers.CountAsync(fabric, ct));
            var results = (await guests.StopAsync(ct)).Select(Succeeded).ToList();
            var published = await pub.FinishAsync();

            Assert.Equal(Messages, published.Sent);
            Assert.Equal(Cids(3, subscribers), results.Select(r => r.Cid));
            Assert.All(results, r => Assert.Equal((Messages, PeerResult.Range(0, Messages - 1)), (r.Received, r.Seqs)));
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    [Fact]
    public async Task PushPull_VentilatorWorkerSink_CountsAndSumsAddUp()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();

        await using var ventilator = await Peers.StartAsync(fabric, 3, ["zmq", "push", "bind", "vmci://*:*", Arg(Messages), "hold"], waitForReady: true, ct);
        await using var sink = await Peers.StartAsync(fabric, 5, ["zmq", "pull", "bind", "vmci://*:*", Arg(Messages)], waitForReady: true, ct);
        await using var worker = await Peers.StartAsync(
            fabric, 4, ["zmq", "worker", "connect", ReadyEndpoint(ventilator).ToString(), Arg(Messages), $"to=connect:{ReadyEndpoint(sink)}", "hold"], waitForReady: true, ct);
        Assert.Equal(3, await Peers.CountAsync(fabric, ct));

        var sunk = Succeeded(await sink.WaitForExitAsync(ct));
        var worked = Succeeded(await worker.StopAsync(ct));
        var ventilated = Succeeded(await ventilator.StopAsync(ct));

        const long sum = (long)Messages * (Messages - 1) / 2;
        Assert.Equal((Messages, 0), (ventilated.Sent, ventilated.Received));
        Assert.Equal((Messages, Messages, sum, PeerResult.Range(0, Messages - 1)), (worked.Received, worked.Sent, worked.Sum, worked.Seqs));
        Assert.Equal((Messages, 2 * sum), (sunk.Received, sunk.Sum));
        Assert.Equal(Messages, sunk.Seqs.Split(',').Length);
    }

    [Fact]
    public async Task RouterDealer_ThreeIdentities_RouterSeesAndAnswersEach()
    {
        const int perDealer = 20;
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();

        await using var router = await Peers.StartAsync(fabric, 3, ["zmq", "router", "bind", "vmci://*:*", Arg(3 * perDealer), "hold"], waitForReady: true, ct);
        var endpoint = ReadyEndpoint(router).ToString();
        await using (var dealers = await PeerGroup.StartAsync(
            Peers, fabric, Cids(4, 3), cid => ["zmq", "dealer", "connect", endpoint, Arg(perDealer), $"identity=dealer-{cid}"], waitForReady: false, ct))
        {
            var dealt = (await dealers.WaitForExitAsync(ct)).Select(Succeeded).ToList();
            var routed = Succeeded(await router.StopAsync(ct));

            Assert.All(dealt, d => Assert.Equal((perDealer, perDealer, PeerResult.Range(0, perDealer - 1)), (d.Sent, d.Received, d.Seqs)));
            Assert.Equal(3 * perDealer, routed.Received);
            Assert.Equal(
                new Dictionary<string, int> { ["dealer-4"] = perDealer, ["dealer-5"] = perDealer, ["dealer-6"] = perDealer },
                routed.Identities);
        }
    }

    /// <summary>The endpoint a peer printed in its <c>ready</c> line.</summary>
    /// <param name="peer">A peer started with waitForReady.</param>
    /// <returns>The endpoint.</returns>
    internal static VmciEndpoint ReadyEndpoint(IPeer peer) =>
        VmciEndpoint.Parse(peer.ReadyLine?["ready ".Length..] ?? throw new InvalidOperationException("the peer printed no ready line"));

    /// <summary>Asserts a peer exited with 0 and returns its result line.</summary>
    /// <param name="exit">How the peer ended.</param>
    /// <returns>Its result.</returns>
    internal static PeerResult Succeeded(PeerExit exit)
    {
        Assert.True(exit.ExitCode == 0, $"the peer exited with {exit.ExitCode}: {exit.Error}");
        return PeerResult.Parse(exit.Lines);
    }

    /// <summary><paramref name="count"/> CIDs from <paramref name="first"/>.</summary>
    /// <param name="first">The first CID.</param>
    /// <param name="count">How many.</param>
    /// <returns>The CIDs.</returns>
    internal static uint[] Cids(uint first, int count) => [.. Enumerable.Range(0, count).Select(i => first + (uint)i)];
}
