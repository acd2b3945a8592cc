using System.Globalization;
using System.Net.Sockets;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>SPEC §5 connect rules and §7 addressing.</summary>
public sealed class ConnectTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Fact]
    public async Task Connect_NobodyListening_ThrowsEconnreset()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);

        var e = await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, 7000), null, Watchdog.Token)));

        Assert.Equal(VmciOperation.Connect, e.Operation);
        Assert.Equal("vmci://5:7000", e.Endpoint);
    }

    [Fact]
    public async Task Connect_StaleSocketFile_ThrowsEconnreset()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);
        Fabric.LeaveStaleListener(5, 7000);

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, 7000), null, Watchdog.Token)));
    }

    [Theory]
    [InlineData(9u)]
    [InlineData(VmciCid.Hypervisor)]
    [InlineData(VmciCid.Any)]
    public async Task Connect_NoSuchMachine_ThrowsEnodev(uint cid)
    {
        var host = Fabric.Machine(2);

        await VmciAssert.ThrowsAsync(Errno.ENODEV, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(cid, 7000), null, Watchdog.Token)));
    }

    [Fact]
    public async Task Connect_OtherMachine_BothEndsReportAddresses()
    {
        var guest = Fabric.Machine(5);
        var host = Fabric.Machine(2);
        using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(5, listener.LocalAddress.Port);

        var (client, server) = await VsockStreams.ConnectPairAsync(host, listener, target, Watchdog.Token);
        using (client)
        using (server)
        {
            Assert.Equal(target, client.RemoteAddress);
            Assert.Equal(VmciCid.Any, client.LocalAddress.Cid); // auto-bound to (any, port), as by the kernel
            Assert.InRange(client.LocalAddress.Port, VmciPort.LastReserved + 1, VmciPort.Any - 1);
            Assert.Equal(new VsockAddress(2, client.LocalAddress.Port), server.RemoteAddress);
            Assert.Equal(target, server.LocalAddress);
        }
    }

    [Fact]
    public async Task Connect_Loopback_ReachesOwnMachine()
    {
        var guest = Fabric.Machine(5);
        using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(VmciCid.Local, listener.LocalAddress.Port);

        var (client, server) = await VsockStreams.ConnectPairAsync(guest, listener, target, Watchdog.Token);
        using (client)
        using (server)
        {
            Assert.Equal(new VsockAddress(VmciCid.Local, client.LocalAddress.Port), server.RemoteAddress);
            Assert.Equal(target, server.LocalAddress);
        }
    }

    [Fact]
    public async Task Connect_ListenerBoundToLoopback_OnlyReachableThroughCid1()
    {
        var guest = Fabric.Machine(5);
        var host = Fabric.Machine(2);
        using var listener = guest.Listen(new VsockAddress(VmciCid.Local, VmciPort.Any));
        var port = listener.LocalAddress.Port;

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, port), null, Watchdog.Token)));
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(guest.ConnectAsync(new VsockAddress(5, port), null, Watchdog.Token)));
        var (client, server) = await VsockStreams.ConnectPairAsync(guest, listener, new VsockAddress(VmciCid.Local, port), Watchdog.Token);
        client.Dispose();
        server.Dispose();
    }

    [Fact]
    public async Task Connect_ListenerBoundToOwnCid_NotReachableThroughCid1()
    {
        var guest = Fabric.Machine(5);
        using var listener = guest.Listen(new VsockAddress(5, VmciPort.Any));

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(guest.ConnectAsync(new VsockAddress(VmciCid.Local, listener.LocalAddress.Port), null, Watchdog.Token)));
    }

    [Theory]
    [InlineData(SimTopology.Vmware, 5u, 6u, false)]
    [InlineData(SimTopology.Vmware, 5u, 2u, true)]
    [InlineData(SimTopology.Vmware, 5u, 5u, true)]
    [InlineData(SimTopology.Vmware, 2u, 6u, true)]
    [InlineData(SimTopology.Open, 5u, 6u, true)]
    public async Task Connect_Topology_AllowsOrRefusesWithEnetunreach(SimTopology topology, uint from, uint to, bool allowed)
    {
        Fabric.Fabric.Topology = topology;
        var source = Fabric.Machine(from);
        using var listener = Fabric.Machine(to).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(to, listener.LocalAddress.Port);

        if (allowed)
        {
            var (client, server) = await VsockStreams.ConnectPairAsync(source, listener, target, Watchdog.Token);
            client.Dispose();
            server.Dispose();
        }
        else
        {
            await VmciAssert.ThrowsAsync(Errno.ENETUNREACH, () => Watchdog.Guard(source.ConnectAsync(target, null, Watchdog.Token)));
        }
    }

    [Fact]
    public async Task Connect_ListenerNeverAnswers_ThrowsEtimedoutAfterConnectTimeout()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);
        using var silent = SilentListener(5, 7000);
        var options = new VsockOptions { ConnectTimeout = TimeSpan.FromMilliseconds(100) };

        await VmciAssert.ThrowsAsync(Errno.ETIMEDOUT, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, 7000), options, Watchdog.Token)));
    }

    [Fact]
    public async Task Connect_ListenerClosesWhileTheRequestWaits_ThrowsEconnreset()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);
        var silent = SilentListener(5, 7000);
        var connect = host.ConnectAsync(new VsockAddress(5, 7000), null, Watchdog.Token).AsTask();

        silent.Dispose(); // the request sits unread in the backlog: the kernel resets the connection

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(connect));
    }

    /// <summary>
    /// A listener that closes as a connection arrives, racing the connector's request: whichever of EPIPE (closed
    /// before the request was written) or a reset (after) the Unix socket reports, the connect reports what the
    /// kernel's vsock does when a listener goes away, ECONNRESET (seen in CI as EPIPE from AgentServerTests).
    /// </summary>
    [Fact]
    public async Task Connect_ListenerClosesAsTheConnectionArrives_ThrowsEconnresetWhateverTheRace()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);
        for (var round = 0; round < 200; round++)
        {
            var silent = SilentListener(5, 7000);
            var closer = Task.Run(() =>
            {
                silent.Poll(-1, SelectMode.SelectRead);
                silent.Dispose();
            }, Watchdog.Token);

            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(new VsockAddress(5, 7000), null, Watchdog.Token)));
            await Watchdog.Guard(closer);
            File.Delete(Path.Combine(Fabric.Directory, "5", "7000"));
        }
    }

    /// <summary>A Unix socket listening at the file of (<paramref name="cid"/>, <paramref name="port"/>) that never answers a request.</summary>
    private Socket SilentListener(uint cid, uint port)
    {
        var silent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        silent.Bind(new UnixDomainSocketEndPoint(Path.Combine(Fabric.Directory, cid.ToString(CultureInfo.InvariantCulture), port.ToString(CultureInfo.InvariantCulture))));
        silent.Listen(8);
        return silent;
    }

    [Fact]
    public async Task Connect_Cancelled_ThrowsEcanceled()
    {
        var host = Fabric.Machine(2);
        Fabric.Machine(5);
        using var silent = SilentListener(5, 7000);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Watchdog.Token);
        var connect = host.ConnectAsync(new VsockAddress(5, 7000), null, cts.Token).AsTask();

        await cts.CancelAsync();

        await VmciAssert.ThrowsAsync(Errno.ECANCELED, () => Watchdog.Guard(connect));
    }

    [Fact]
    public async Task Connect_BacklogFull_ThrowsEconnreset()
    {
        var host = Fabric.Machine(2);
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), backlog: 0);
        var target = new VsockAddress(5, listener.LocalAddress.Port);
        using var first = await Watchdog.Guard(host.ConnectAsync(target, null, Watchdog.Token));

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(target, null, Watchdog.Token)));

        using var accepted = await Watchdog.Guard(listener.AcceptAsync(Watchdog.Token));
        using var second = await Watchdog.Guard(host.ConnectAsync(target, null, Watchdog.Token));
    }

    [Fact]
    public async Task Connect_Accepted_InheritsListenerOptions()
    {
        var options = new VsockOptions { BufferMaxSize = 1 << 20, BufferSize = 512 * 1024, ConnectTimeout = TimeSpan.FromSeconds(5) };
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), options);

        var (client, server) = await VsockStreams.ConnectPairAsync(Fabric.Machine(2), listener, new VsockAddress(5, listener.LocalAddress.Port), Watchdog.Token);
        using (client)
        using (server)
        {
            Assert.Equal(512u * 1024, server.GetOption(VsockOption.BufferSize));
            Assert.Equal(1u << 20, server.GetOption(VsockOption.BufferMaxSize));
            Assert.Equal(5000u, server.GetOption(VsockOption.ConnectTimeout));
            Assert.Equal(VsockOptions.DefaultBufferSize, client.GetOption(VsockOption.BufferSize));
            client.SetOption(VsockOption.BufferSize, 1 << 30);
            Assert.Equal(VsockOptions.DefaultBufferMaxSize, client.GetOption(VsockOption.BufferSize));
            VmciAssert.Throws(Errno.ENOPROTOOPT, () => client.SetOption((VsockOption)3, 1));
        }
    }
}
