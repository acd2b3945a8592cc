using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>
/// Limits a hostile peer cannot get around (docs/transport.md): a cap on the connections a bind accepts, a bound on a
/// peer that never completes its ZMTP greeting, a peer that breaks ZMTP, and — in direct mode — no hidden tcp endpoint that a
/// stranger could reach at all. Each on both backends, in the mode of the process.
/// </summary>
public abstract partial class NetMqConformance
{
    /// <summary>
    /// True when a connection beyond the cap is refused during the connection handshake (the connector's connect fails
    /// with ECONNRESET, as from a full backlog): the simulator. The kernel completes connections before accept(2), so
    /// there the transport closes an accepted connection beyond the cap at once (the connector reads end of stream).
    /// </summary>
    protected virtual bool RefusesBeyondCapAtHandshake => Network.Name == "sim";

    [Fact]
    [Trait("Spec", "limits")]
    public async Task Cap_ConnectionBeyondIt_RefusedOrClosedAtOnce()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var server = Socket("PULL");
        server.VmciOptions().MaxConnections = 1;
        var bound = BindAny(server);
        var target = new VsockAddress(LoopbackCid, PortOf(bound));
        using var first = await watchdog.Guard(Network.ConnectAsync(target, null, watchdog.Token).AsTask());
        WaitUntil(() => Network.Accepted.Count == 1, "the first connection was taken");
        if (RefusesBeyondCapAtHandshake)
        {
            var e = await Assert.ThrowsAsync<VmciException>(() => watchdog.Guard(Network.ConnectAsync(target, null, watchdog.Token).AsTask()));
            Assert.Equal(Errno.ECONNRESET, e.Errno);
        }
        else
        {
            using var second = await watchdog.Guard(Network.ConnectAsync(target, null, watchdog.Token).AsTask());
            Assert.Equal(0, await ReadUntilClosedAsync(second, watchdog));
        }
        // The first one still works as a ZMTP peer would: it gets the server's greeting.
        var greeting = new byte[10];
        Assert.Equal(0xFF, await ReadSomeAsync(first, greeting, watchdog) > 0 ? greeting[0] : 0);
    }

    [Fact]
    [Trait("Spec", "limits")]
    public async Task Greeting_NeverSent_ClosedAfterTheHandshakeTimeout()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var server = Socket("PULL");
        server.VmciOptions().HandshakeTimeout = TimeSpan.FromMilliseconds(300);
        var bound = BindAny(server);
        using var silent = await watchdog.Guard(Network.ConnectAsync(new VsockAddress(LoopbackCid, PortOf(bound)), null, watchdog.Token).AsTask());
        // It may read the server's greeting, then the server closes it.
        Assert.InRange(await ReadUntilClosedAsync(silent, watchdog), 0, 64);
        var client = Socket("PUSH");
        client.VmciConnect(Target(bound));
        client.SendFrame("a real peer still gets through");
        Assert.Equal("a real peer still gets through", Delivery.Receive(server)[0].ConvertToString());
    }

    [Fact]
    [Trait("Spec", "limits")]
    public async Task Peer_BrokenGreeting_ClosedAndGetsNothingMore()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var server = Socket("REP");
        var bound = BindAny(server);
        using var stranger = await watchdog.Guard(Network.ConnectAsync(new VsockAddress(LoopbackCid, PortOf(bound)), null, watchdog.Token).AsTask());
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "JUNK"u8.CopyTo(greeting.AsSpan(12));
        await watchdog.Guard(stranger.SendAsync(greeting, watchdog.Token).AsTask());
        Assert.InRange(await ReadUntilClosedAsync(stranger, watchdog), 0, 64);
        Assert.False(server.TryReceiveFrameString(TimeSpan.Zero, out _));
    }

    [Fact]
    [Trait("Spec", "limits")]
    public void Bind_NetMQsOwnLastEndpoint_IsTheVmciOneInDirectMode_TheHiddenTcpOneInRelayMode()
    {
        // Direct mode: NetMQ's own LAST_ENDPOINT is the vmci endpoint — NetMQ itself bound nothing else (that no TCP
        // listener exists at all is checked by VmciTransport.Tests' TcpListenerTests and by CI with ss -ltnp on vmci echo).
        // Relay mode: it is the hidden loopback endpoint, by design.
        var server = (NetMQSocket)Socket("PULL");
        var bound = BindAny(server);
        var client = (NetMQSocket)Socket("PUSH");
        client.VmciConnect(Target(bound));
        if (VmciTransport.Mode == VmciTransportMode.Direct)
        {
            Assert.Equal(bound, server.Options.LastEndpoint);
            Assert.Equal(Target(bound), client.Options.LastEndpoint);
        }
        else
        {
            Assert.StartsWith("tcp://127.0.0.1:", server.Options.LastEndpoint, StringComparison.Ordinal);
            Assert.StartsWith("tcp://127.0.0.1:", client.Options.LastEndpoint, StringComparison.Ordinal);
        }
        Assert.Equal(bound, server.VmciLastEndpoint());
        Assert.Equal(Target(bound), client.VmciLastEndpoint());
    }

    private static async Task<int> ReadUntilClosedAsync(IVsockConnection connection, Watchdog watchdog)
    {
        var total = 0;
        var buffer = new byte[256];
        while (true)
        {
            var n = await ReadSomeAsync(connection, buffer, watchdog);
            if (n <= 0)
                return total;
            total += n;
        }
    }

    /// <summary>One read; 0 at end of stream, -1 when the connection was reset.</summary>
    private static async Task<int> ReadSomeAsync(IVsockConnection connection, byte[] buffer, Watchdog watchdog)
    {
        try
        {
            return await watchdog.Guard(connection.ReceiveAsync(buffer, watchdog.Token).AsTask());
        }
        catch (VmciException e) when (e.Errno is Errno.ECONNRESET or Errno.EPIPE)
        {
            return -1;
        }
    }
}
