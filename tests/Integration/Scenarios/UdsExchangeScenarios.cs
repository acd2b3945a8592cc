using Integration.Harness;
using Integration.Peer;
using Vmci;
using Vmci.TestKit;
using static Integration.Harness.Scenario;

namespace Integration.Scenarios;

/// <summary>
/// Simulated VMs that share only a fabric directory exchange bytes over plain Unix domain sockets in it
/// (no simulator): peer to host, host to peer, peer to peer. Checks the plumbing every later scenario
/// relies on: the shared directory, socket files across the boundary, uid and permissions.
/// One suite; each flavour is a leaf that supplies <see cref="Peers"/>.
/// </summary>
public abstract class UdsExchangeScenarios
{
    /// <summary>Starts and counts this flavour's peers.</summary>
    protected abstract IPeerLauncher Peers { get; }

    [Fact]
    public async Task PeerListens_HostConnects_BytesExchangedBothWays()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var path = Path.Combine(fabric.Directory, "peer-3.sock");
        var payload = Exchange.Payload(PayloadSize);

        await using (var peer = await Peers.StartAsync(fabric, 3, ["listen", path], waitForReady: true, ct))
        {
            Assert.Equal(1, await Peers.CountAsync(fabric, ct));

            var reply = await Exchange.ExchangeAsync(path, payload, ct);
            var exit = await peer.WaitForExitAsync(ct);

            Assert.Equal(Exchange.Reply(payload, Exchange.Identity(3)), reply);
            Assert.Equal(0, exit.ExitCode);
            Assert.Contains($"served received={PayloadSize} sent={reply.Length}", exit.Lines);
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
        Assert.False(File.Exists(path), "the peer removes its socket file");
    }

    [Fact]
    public async Task HostListens_PeerConnects_BytesExchangedBothWays()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var path = Path.Combine(fabric.Directory, "host-2.sock");
        var hostIdentity = Exchange.Identity(VmciCid.Host);
        using var listener = Exchange.Listen(path);

        await using (var peer = await Peers.StartAsync(fabric, 4, ["connect", path, Arg(PayloadSize), hostIdentity], waitForReady: false, ct))
        {
            // The peer cannot finish before the host accepts and replies: it is counted while it runs.
            Assert.Equal(1, await Peers.CountAsync(fabric, ct));

            var (received, sent) = await Exchange.ServeOnceAsync(listener, hostIdentity, ct);
            var exit = await peer.WaitForExitAsync(ct);

            Assert.Equal(Exchange.Payload(PayloadSize), received);
            Assert.Equal(0, exit.ExitCode);
            Assert.Contains($"exchanged sent={PayloadSize} received={sent}", exit.Lines);
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }

    [Fact]
    public async Task PeerListens_OtherPeerConnects_BytesExchangedBothWays()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();
        var path = Path.Combine(fabric.Directory, "peer-5.sock");
        var replySize = Exchange.Reply(Exchange.Payload(PayloadSize), Exchange.Identity(5)).Length;

        await using (var server = await Peers.StartAsync(fabric, 5, ["listen", path], waitForReady: true, ct))
        await using (var client = await Peers.StartAsync(fabric, 6, ["connect", path, Arg(PayloadSize), Exchange.Identity(5)], waitForReady: false, ct))
        {
            Assert.Equal(2, await Peers.CountAsync(fabric, ct));

            var clientExit = await client.WaitForExitAsync(ct);
            var serverExit = await server.WaitForExitAsync(ct);

            Assert.Equal(0, clientExit.ExitCode);
            Assert.Contains($"exchanged sent={PayloadSize} received={replySize}", clientExit.Lines);
            Assert.Equal(0, serverExit.ExitCode);
            Assert.Contains($"served received={PayloadSize} sent={replySize}", serverExit.Lines);
        }

        Assert.Equal(0, await Peers.CountAsync(fabric, ct));
    }
}
