using Integration.Harness;
using Integration.Peer;
using Vmci;
using Vmci.TestKit;
using static Integration.Harness.Scenario;

namespace Integration.Scenarios;

/// <summary>
/// The same exchange through the VMCI simulator: each peer is a machine of the fabric with the CID from
/// VMCI_SIM_CID, the test is the host (CID 2). Listeners bind port <c>*</c>; the real port is read back
/// from the peer's <c>ready vmci://CID:PORT</c> line. One suite; each flavour supplies <see cref="Peers"/>.
/// </summary>
public abstract class VsockExchangeScenarios
{
    /// <summary>Starts and counts this flavour's peers.</summary>
    protected abstract IPeerLauncher Peers { get; }

    [Fact]
    public async Task PeerListens_HostConnects_BytesExchangedBothWays()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;
        var payload = Exchange.Payload(PayloadSize);

        await using var peer = await Peers.StartAsync(fabric, 3, ["vsock-listen", "*"], waitForReady: true, ct);
        var listening = ReadyEndpoint(peer);
        Assert.Equal(3u, listening.Cid);
        Assert.Contains(fabric.Fabric.Snapshot(), m => m.Cid == 3 && m.Listeners.Any(l => l.Address.Port == listening.Port));

        using var connection = await host.ConnectAsync(new VsockAddress(listening.Cid, listening.Port), cancellationToken: ct);
        var reply = await Exchange.ExchangeAsync(connection, payload, ct);
        var exit = await peer.WaitForExitAsync(ct);

        Assert.Equal(new VsockAddress(3, listening.Port), connection.RemoteAddress);
        Assert.Equal(Exchange.Reply(payload, Exchange.Identity(3)), reply);
        Assert.Equal(0, exit.ExitCode);
        Assert.Contains($"served received={PayloadSize} sent={reply.Length} remote-cid={VmciCid.Host}", exit.Lines);
    }

    [Fact]
    public async Task HostListens_PeerConnects_PeerCidSeenByHost()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var host = fabric.Host;
        using var listener = host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = listener.LocalAddress.Port;
        var hostIdentity = Exchange.Identity(VmciCid.Host);

        await using var peer = await Peers.StartAsync(
            fabric, 4, ["vsock-connect", Arg(VmciCid.Host), Arg(port), Arg(PayloadSize), hostIdentity], waitForReady: false, ct);
        using var connection = await listener.AcceptAsync(ct);
        var (received, sent) = await Exchange.ServeAsync(connection, hostIdentity, ct);
        var exit = await peer.WaitForExitAsync(ct);

        Assert.Equal(4u, connection.RemoteAddress.Cid);
        Assert.Equal(Exchange.Payload(PayloadSize), received);
        Assert.Equal(0, exit.ExitCode);
        Assert.Contains($"exchanged sent={PayloadSize} received={sent}", exit.Lines);
    }

    [Fact]
    public async Task PeerListens_OtherPeerConnects_BytesExchangedBothWays()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var replySize = Exchange.Reply(Exchange.Payload(PayloadSize), Exchange.Identity(5)).Length;

        await using (var server = await Peers.StartAsync(fabric, 5, ["vsock-listen", "*"], waitForReady: true, ct))
        {
            var listening = ReadyEndpoint(server);
            await using var client = await Peers.StartAsync(
                fabric, 6, ["vsock-connect", Arg(listening.Cid), Arg(listening.Port), Arg(PayloadSize), Exchange.Identity(5)], waitForReady: false, ct);
            Assert.Equal(2, await Peers.CountAsync(fabric, ct));

            var clientExit = await client.WaitForExitAsync(ct);
            var serverExit = await server.WaitForExitAsync(ct);

            Assert.Equal(0, clientExit.ExitCode);
            Assert.Contains($"exchanged sent={PayloadSize} received={replySize}", clientExit.Lines);
            Assert.Equal(0, serverExit.ExitCode);
            Assert.Contains($"served received={PayloadSize} sent={replySize} remote-cid=6", serverExit.Lines);
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    private static VmciEndpoint ReadyEndpoint(IPeer peer) =>
        VmciEndpoint.Parse(peer.ReadyLine?["ready ".Length..] ?? throw new InvalidOperationException("the peer printed no ready line"));
}
