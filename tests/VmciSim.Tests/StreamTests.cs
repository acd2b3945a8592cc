using Vmci;

namespace VmciSim.Tests;

/// <summary>SPEC §7 stream semantics: ordered bytes, half-close, reset, close.</summary>
public sealed class StreamTests : IDisposable
{
    private readonly TempFabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    private async Task<(IVsockConnection Client, IVsockConnection Server)> PairAsync()
    {
        var listener = _fabric.Join(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        try
        {
            return await Sim.ConnectPairAsync(_fabric.Join(2), listener, new VsockAddress(5, listener.LocalAddress.Port));
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

            var toServer = client.SendAsync(data, TempFabric.Ct).AsTask();
            var toClient = server.SendAsync(data, TempFabric.Ct).AsTask();
            var atServer = await Sim.ReadExactlyAsync(server, data.Length);
            var atClient = await Sim.ReadExactlyAsync(client, data.Length);
            await Task.WhenAll(toServer, toClient).WaitAsync(TempFabric.Watchdog, TempFabric.Ct);

            Assert.Equal(data, atServer);
            Assert.Equal(data, atClient);
        }
    }

    [Fact]
    public async Task ShutdownSend_PeerReadsEndOfStream_AndCanStillSendBack()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            await client.SendAsync("last"u8.ToArray(), TempFabric.Ct);
            client.ShutdownSend();

            Assert.Equal("last"u8.ToArray(), await Sim.ReadExactlyAsync(server, 4));
            Assert.Equal(0, await Sim.ReceiveAsync(server, new byte[16]));
            await server.SendAsync("reply"u8.ToArray(), TempFabric.Ct);
            Assert.Equal("reply"u8.ToArray(), await Sim.ReadExactlyAsync(client, 5));
        }
    }

    [Fact]
    public async Task Send_AfterShutdownSend_ThrowsEpipe()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            client.ShutdownSend();

            await Sim.ThrowsErrnoAsync(Errno.EPIPE, () => client.SendAsync(new byte[1], TempFabric.Ct).AsTask());
        }
    }

    [Fact]
    public async Task Abort_PeerReadsEndOfStream_ThenSendThrowsEpipe()
    {
        // Linux vsock has no reset that user space can send once connected: an abort looks like a close.
        var (client, server) = await PairAsync();
        using (server)
        {
            await client.SendAsync("x"u8.ToArray(), TempFabric.Ct);
            client.Abort();

            Assert.Equal("x"u8.ToArray(), await Sim.ReadExactlyAsync(server, 1));
            Assert.Equal(0, await Sim.ReceiveAsync(server, new byte[16]));
            await Sim.ThrowsErrnoAsync(Errno.EPIPE, () => server.SendAsync(new byte[1], TempFabric.Ct).AsTask());
        }
    }

    [Fact]
    public async Task Close_WithUnreadData_PeerReceiveThrowsEconnreset()
    {
        // The one UDS rule that differs from vsock (docs/simulator.md): closing with unread data resets the peer.
        var (client, server) = await PairAsync();
        using (server)
        {
            await server.SendAsync("unread"u8.ToArray(), TempFabric.Ct);
            client.Dispose();

            await Sim.ThrowsErrnoAsync(Errno.ECONNRESET, () => Sim.ReceiveAsync(server, new byte[16]));
        }
    }

    [Fact]
    public async Task Dispose_PeerReadsEndOfStream_ThenSendThrowsEpipe()
    {
        var (client, server) = await PairAsync();
        using (server)
        {
            await client.SendAsync("bye"u8.ToArray(), TempFabric.Ct);
            client.Dispose();

            Assert.Equal("bye"u8.ToArray(), await Sim.ReadExactlyAsync(server, 3));
            Assert.Equal(0, await Sim.ReceiveAsync(server, new byte[16]));
            await Sim.ThrowsErrnoAsync(Errno.EPIPE, () => server.SendAsync(new byte[1], TempFabric.Ct).AsTask());
        }
    }

    [Fact]
    public async Task Receive_AfterDispose_ThrowsEbadf()
    {
        var (client, server) = await PairAsync();
        using (server)
        {
            client.Dispose();

            await Sim.ThrowsErrnoAsync(Errno.EBADF, () => Sim.ReceiveAsync(client, new byte[1]));
        }
    }

    [Fact]
    public async Task Receive_Cancelled_ThrowsEcanceled()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TempFabric.Ct);
            var receive = client.ReceiveAsync(new byte[1], cts.Token).AsTask();

            await cts.CancelAsync();

            await Sim.ThrowsErrnoAsync(Errno.ECANCELED, () => receive);
        }
    }
}
