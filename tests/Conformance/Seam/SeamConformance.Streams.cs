using System.Security.Cryptography;
using Vmci;
using Vmci.TestKit;

namespace Conformance.Seam;

public abstract partial class SeamConformance
{
    /// <summary>What the peer of an aborted connection observes. The kernel: <see cref="AbortObservation.EndOfStream"/>.</summary>
    protected virtual AbortObservation AbortSeenByPeer => AbortObservation.EndOfStream;

    [Fact(DisplayName = "§7 bytes flow both ways, in order")]
    [Trait("Spec", "§7")]
    public async Task SendReceive_BothWays_DeliversBytesInOrder()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        var ping = VsockStreams.Payload(1000, 1);
        var pong = VsockStreams.Payload(3000, 2);
        await client.SendAsync(ping, watchdog.Token);
        Assert.Equal(ping, await server.ReadExactlyAsync(ping.Length, watchdog.Token));
        await server.SendAsync(pong, watchdog.Token);
        Assert.Equal(pong, await client.ReadExactlyAsync(pong.Length, watchdog.Token));
    }

    [Fact(DisplayName = "§7 half-close by the client: server reads 0, then still sends")]
    [Trait("Spec", "§7")]
    public async Task ShutdownSend_Client_ServerReadsEndAndCanStillSend()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        await client.SendAsync("last"u8.ToArray(), watchdog.Token);
        client.ShutdownSend();
        Assert.Equal("last"u8.ToArray(), await server.ReadToEndAsync(watchdog.Token));
        await server.SendAsync("reply"u8.ToArray(), watchdog.Token);
        server.ShutdownSend();
        Assert.Equal("reply"u8.ToArray(), await client.ReadToEndAsync(watchdog.Token));
    }

    [Fact(DisplayName = "§7 half-close by the server: client reads 0, then still sends")]
    [Trait("Spec", "§7")]
    public async Task ShutdownSend_Server_ClientReadsEndAndCanStillSend()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        server.ShutdownSend();
        Assert.Empty(await client.ReadToEndAsync(watchdog.Token));
        await client.SendAsync("still"u8.ToArray(), watchdog.Token);
        Assert.Equal("still"u8.ToArray(), await server.ReadExactlyAsync(5, watchdog.Token));
    }

    [Fact(DisplayName = "§7 cancel a pending receive → ECANCELED, on every backend")]
    [Trait("Spec", "§7")]
    public async Task Receive_Cancelled_FailsWithECANCELED()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(watchdog.Token);
        var pending = client.ReceiveAsync(new byte[16], cancel.Token).AsTask();
        await cancel.CancelAsync();
        await VmciAssert.ThrowsAsync(Errno.ECANCELED, () => watchdog.Guard(pending));
    }

    [Fact(DisplayName = "§7 dispose a connection while a receive waits → EBADF, on every backend")]
    [Trait("Spec", "§7")]
    public async Task Receive_ConnectionDisposedWhilePending_FailsWithEBADF()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        var pending = client.ReceiveAsync(new byte[16], watchdog.Token).AsTask();
        client.Dispose();
        await VmciAssert.ThrowsAsync(Errno.EBADF, () => watchdog.Guard(pending));
        await VmciAssert.ThrowsAsync(Errno.EBADF, () => client.ReceiveAsync(new byte[16], watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§7 send after ShutdownSend → EPIPE")]
    [Trait("Spec", "§7")]
    public async Task Send_AfterShutdownSend_ThrowsEPIPE()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.ShutdownSend();
        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => client.SendAsync(new byte[1], watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§7 dispose → the peer reads the data, then 0")]
    [Trait("Spec", "§7")]
    public async Task Dispose_Connection_PeerReadsDataThenEnd()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        await client.SendAsync("bye"u8.ToArray(), watchdog.Token);
        client.Dispose();
        Assert.Equal("bye"u8.ToArray(), await server.ReadToEndAsync(watchdog.Token));
    }

    [Fact(DisplayName = "§7 dispose → the peer's send fails with EPIPE")]
    [Trait("Spec", "§7")]
    public async Task Dispose_Connection_PeerSendFailsWithEPIPE()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.Dispose();
        Assert.Empty(await server.ReadToEndAsync(watchdog.Token));
        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => server.SendAsync(new byte[1], watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§7 abort → what the peer's receive observes")]
    [Trait("Spec", "§7")]
    public async Task Abort_Connection_PeerObservesReset()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.Abort();
        var buffer = new byte[16];
        if (AbortSeenByPeer == AbortObservation.EndOfStream)
            Assert.Equal(0, await server.ReceiveAsync(buffer, watchdog.Token));
        else
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => server.ReceiveAsync(buffer, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§7 32 MiB one way, SHA-256 equal")]
    [Trait("Spec", "§7")]
    public async Task SendReceive_32MiB_ArrivesIntact()
    {
        using var watchdog = Watchdog.Start(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        var chunk = VsockStreams.Payload(1 << 20, 32);
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var send = Task.Run(async () =>
        {
            for (var i = 0; i < 32; i++)
            {
                chunk[0] = (byte)i;
                sent.AppendData(chunk);
                await client.SendAsync(chunk, watchdog.Token);
            }
            client.ShutdownSend();
        }, watchdog.Token);
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long total = 0;
        int n;
        while ((n = await server.ReceiveAsync(buffer, watchdog.Token)) > 0)
        {
            received.AppendData(buffer, 0, n);
            total += n;
        }
        await watchdog.Guard(send);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Network.Name}: 32 MiB in {clock.Elapsed.TotalSeconds:F2} s = {32 / clock.Elapsed.TotalSeconds:F1} MiB/s");
        Assert.Equal(32L << 20, total);
        Assert.Equal(sent.GetHashAndReset(), received.GetHashAndReset());
    }

    [Fact(DisplayName = "§7 eight concurrent connections, each echoed intact")]
    [Trait("Spec", "§7")]
    public async Task Connect_Concurrent_EachConnectionIsSeparate()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var listener = ListenAny();
        const int Count = 8;
        var echo = Task.Run(async () =>
        {
            var servers = new List<Task>();
            for (var i = 0; i < Count; i++)
            {
                var server = Own(await listener.AcceptAsync(watchdog.Token));
                servers.Add(Task.Run(async () =>
                {
                    var data = await server.ReadToEndAsync(watchdog.Token);
                    await server.SendAsync(data, watchdog.Token);
                    server.ShutdownSend();
                }, watchdog.Token));
            }
            await Task.WhenAll(servers);
        }, watchdog.Token);
        var clients = Enumerable.Range(0, Count).Select(i => Task.Run(async () =>
        {
            var client = Own(await Network.ConnectAsync(new VsockAddress(LoopbackCid, listener.LocalAddress.Port), null, watchdog.Token));
            var payload = VsockStreams.Payload(10_000 + i, 100 + i);
            await client.SendAsync(payload, watchdog.Token);
            client.ShutdownSend();
            Assert.Equal(payload, await client.ReadToEndAsync(watchdog.Token));
            return client.LocalAddress.Port;
        }, watchdog.Token)).ToList();
        var ports = await watchdog.Guard(Task.WhenAll(clients));
        await watchdog.Guard(echo);
        Assert.Equal(Count, ports.Distinct().Count());
    }
}

/// <summary>What a peer observes after the other end calls <see cref="IVsockConnection.Abort"/>.</summary>
public enum AbortObservation
{
    /// <summary>Its receive returns 0, as after a graceful close (Linux vsock has no reset that user space can send).</summary>
    EndOfStream,

    /// <summary>Its receive fails with ECONNRESET.</summary>
    ConnectionReset,
}
