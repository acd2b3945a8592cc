using Vmci;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>SPEC §7 stream semantics: ordered bytes, half-close, reset, close.</summary>
public sealed class StreamTests : IDisposable
{
    private readonly TestFabric _fabric = new();
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);

    public void Dispose()
    {
        _watchdog.Dispose();
        _fabric.Dispose();
    }

    private async Task<ConnectedPair> PairAsync()
    {
        var listener = _fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        try
        {
            return await VsockStreams.ConnectPairAsync(_fabric.Machine(2), listener, new VsockAddress(5, listener.LocalAddress.Port), _watchdog.Token);
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

            var toServer = client.SendAsync(data, _watchdog.Token).AsTask();
            var toClient = server.SendAsync(data, _watchdog.Token).AsTask();
            var atServer = await server.ReadExactlyAsync(data.Length, _watchdog.Token);
            var atClient = await client.ReadExactlyAsync(data.Length, _watchdog.Token);
            await _watchdog.Guard(Task.WhenAll(toServer, toClient));

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
            await client.SendAsync("x"u8.ToArray(), _watchdog.Token);
            client.Abort();

            Assert.Equal("x"u8.ToArray(), await server.ReadExactlyAsync(1, _watchdog.Token));
            Assert.Equal(0, await server.ReceiveAsync(new byte[16], _watchdog.Token).AsTask());
            await VmciAssert.ThrowsAsync(Errno.EPIPE, () => _watchdog.Guard(server.SendAsync(new byte[1], _watchdog.Token).AsTask()));
        }
    }

    [Fact]
    public async Task Close_WithUnreadData_PeerReceiveThrowsEconnreset()
    {
        // The one UDS rule that differs from vsock (docs/simulator.md): closing with unread data resets the peer.
        var (client, server) = await PairAsync();
        using (server)
        {
            await server.SendAsync("unread"u8.ToArray(), _watchdog.Token);
            client.Dispose();

            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => _watchdog.Guard(server.ReceiveAsync(new byte[16], _watchdog.Token).AsTask()));
        }
    }
}
