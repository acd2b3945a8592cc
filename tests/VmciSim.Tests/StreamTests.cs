using Vmci;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>SPEC §7 stream semantics: ordered bytes, half-close, reset, close.</summary>
public sealed class StreamTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private async Task<ConnectedPair> PairAsync()
    {
        var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        try
        {
            return await VsockStreams.ConnectPairAsync(Fabric.Machine(2), listener, new VsockAddress(5, listener.LocalAddress.Port), Watchdog.Token);
        }
        finally
        {
            listener.Dispose();
        }
    }

    [Fact]
    public async Task Send_LargeBuffersBothWays_ArriveInOrder()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            var data = new byte[1 << 20];
            Random.Shared.NextBytes(data);

            var toServer = client.SendAsync(data, Watchdog.Token).AsTask();
            var toClient = server.SendAsync(data, Watchdog.Token).AsTask();
            var atServer = await server.ReadExactlyAsync(data.Length, Watchdog.Token);
            var atClient = await client.ReadExactlyAsync(data.Length, Watchdog.Token);
            await Watchdog.Guard(Task.WhenAll(toServer, toClient));

            Assert.Equal(data, atServer);
            Assert.Equal(data, atClient);
        }
    }

    [Fact]
    public async Task Abort_PeerReadsEndOfStream_ThenSendThrowsEpipe()
    {
        // Linux vsock has no reset that user space can send once connected: an abort looks like a close.
        var (client, server) = await PairAsync();
        using (server)
        {
            await client.SendAsync("x"u8.ToArray(), Watchdog.Token);
            client.Abort();

            Assert.Equal("x"u8.ToArray(), await server.ReadExactlyAsync(1, Watchdog.Token));
            Assert.Equal(0, await server.ReceiveAsync(new byte[16], Watchdog.Token).AsTask());
            await VmciAssert.ThrowsAsync(Errno.EPIPE, () => Watchdog.Guard(server.SendAsync(new byte[1], Watchdog.Token)));
        }
    }

    [Fact]
    public async Task Close_WithUnreadData_PeerReceiveThrowsEconnreset()
    {
        // The one UDS rule that differs from vsock (docs/simulator.md): closing with unread data resets the peer.
        var (client, server) = await PairAsync();
        using (server)
        {
            await server.SendAsync("unread"u8.ToArray(), Watchdog.Token);
            client.Dispose();

            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(server.ReceiveAsync(new byte[16], Watchdog.Token)));
        }
    }
}
