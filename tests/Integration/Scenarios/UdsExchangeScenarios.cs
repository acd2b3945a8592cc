using System.Globalization;
using Integration.Harness;
using Integration.Peer;
using Vmci;

namespace Integration.Scenarios;

/// <summary>
/// Simulated VMs that share only a fabric directory exchange bytes over Unix domain sockets in it:
/// peer to host, host to peer, peer to peer. One suite; each flavour (containers, child processes)
/// is a small subclass that supplies <see cref="StartPeerAsync"/> and <see cref="CountPeersAsync"/>.
/// </summary>
public abstract class UdsExchangeScenarios
{
    /// <summary>Bytes each client sends: larger than a socket buffer, so both sides loop.</summary>
    protected const int PayloadSize = 300_000;

    /// <summary>Starts a peer running <c>peer ARGS</c> with context ID <paramref name="cid"/> in <paramref name="fabric"/>.</summary>
    /// <param name="fabric">The fabric the peer shares.</param>
    /// <param name="cid">The peer's context ID.</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to return only once the peer printed <c>ready</c>.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running peer.</returns>
    protected abstract Task<IPeer> StartPeerAsync(Fabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct);

    /// <summary>How many peers of <paramref name="fabric"/> exist, asked of the OS or the engine, not of the harness.</summary>
    /// <param name="fabric">The fabric.</param>
    /// <param name="ct">Cancels the count.</param>
    /// <returns>The number of peer processes or containers (running or exited but not removed).</returns>
    protected abstract Task<int> CountPeersAsync(Fabric fabric, CancellationToken ct);

    /// <summary>The watchdog of every test: the test's token, cancelled after two minutes at most.</summary>
    /// <returns>The token source.</returns>
    protected static CancellationTokenSource Watchdog()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(2));
        return cts;
    }

    [Fact]
    public async Task PeerListens_HostConnects_BytesExchangedBothWays()
    {
        using var watchdog = Watchdog();
        var ct = watchdog.Token;
        using var fabric = Fabric.Create();
        var path = fabric.SocketPath("peer-3.sock");
        var payload = UdsExchange.Payload(PayloadSize);

        await using (var peer = await StartPeerAsync(fabric, 3, ["listen", path], waitForReady: true, ct))
        {
            Assert.Equal(1, await CountPeersAsync(fabric, ct));

            var reply = await UdsExchange.ExchangeAsync(path, payload, ct);
            var exit = await peer.WaitForExitAsync(ct);

            Assert.Equal(UdsExchange.Reply(payload, UdsExchange.Identity(3)), reply);
            Assert.Equal(0, exit.ExitCode);
            Assert.Contains($"served received={PayloadSize} sent={reply.Length}", exit.Lines);
        }

        Assert.Equal(0, await CountPeersAsync(fabric, ct));
        Assert.False(File.Exists(path), "the peer removes its socket file");
    }

    [Fact]
    public async Task HostListens_PeerConnects_BytesExchangedBothWays()
    {
        using var watchdog = Watchdog();
        var ct = watchdog.Token;
        using var fabric = Fabric.Create();
        var path = fabric.SocketPath("host-2.sock");
        var hostIdentity = UdsExchange.Identity(VmciCid.Host);
        using var listener = UdsExchange.Listen(path);

        await using (var peer = await StartPeerAsync(fabric, 4, ["connect", path, Size(PayloadSize), hostIdentity], waitForReady: false, ct))
        {
            // The peer cannot finish before the host accepts and replies: it is counted while it runs.
            Assert.Equal(1, await CountPeersAsync(fabric, ct));

            var (received, sent) = await UdsExchange.ServeOnceAsync(listener, hostIdentity, ct);
            var exit = await peer.WaitForExitAsync(ct);

            Assert.Equal(UdsExchange.Payload(PayloadSize), received);
            Assert.Equal(0, exit.ExitCode);
            Assert.Contains($"exchanged sent={PayloadSize} received={sent}", exit.Lines);
        }

        Assert.Equal(0, await CountPeersAsync(fabric, ct));
    }

    [Fact]
    public async Task PeerListens_OtherPeerConnects_BytesExchangedBothWays()
    {
        using var watchdog = Watchdog();
        var ct = watchdog.Token;
        using var fabric = Fabric.Create();
        var path = fabric.SocketPath("peer-5.sock");

        await using (var server = await StartPeerAsync(fabric, 5, ["listen", path], waitForReady: true, ct))
        await using (var client = await StartPeerAsync(fabric, 6, ["connect", path, Size(PayloadSize), UdsExchange.Identity(5)], waitForReady: false, ct))
        {
            Assert.Equal(2, await CountPeersAsync(fabric, ct));

            var clientExit = await client.WaitForExitAsync(ct);
            var serverExit = await server.WaitForExitAsync(ct);

            var replySize = UdsExchange.Reply(UdsExchange.Payload(PayloadSize), UdsExchange.Identity(5)).Length;
            Assert.Equal(0, clientExit.ExitCode);
            Assert.Contains($"exchanged sent={PayloadSize} received={replySize}", clientExit.Lines);
            Assert.Equal(0, serverExit.ExitCode);
            Assert.Contains($"served received={PayloadSize} sent={replySize}", serverExit.Lines);
        }

        Assert.Equal(0, await CountPeersAsync(fabric, ct));
    }

    /// <summary>A number as a peer argument.</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its invariant text.</returns>
    protected static string Size(int value) => value.ToString(CultureInfo.InvariantCulture);
}
