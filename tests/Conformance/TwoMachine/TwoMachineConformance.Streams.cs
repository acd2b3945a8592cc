using Vmci;
using Vmci.Sim;
using Vmci.TestKit.Agent;

namespace Conformance.TwoMachine;

/// <summary>SPEC §5, §7, §9 on vsock streams between two machines.</summary>
public abstract partial class TwoMachineConformance
{
    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §5")]
    public async Task TwoMachine_Accept_BothSidesSeeTheRealPeerAddress(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var (server, client) = await PairAsync(listening, connecting);
        var seen = $"server {server.Local} <- {server.Remote}, client {client.Local} -> {client.Remote}";
        Assert.True(server.Remote.Cid == connecting.Cid, $"the accepting side sees CID {server.Remote.Cid}, not {connecting.Cid}: {seen}");
        Assert.True(client.Remote == new VsockAddress(listening.Cid, server.Local.Port), seen);
        Assert.True(server.Remote.Port == client.Local.Port, $"the accepted peer port is the connector's own port: {seen}");
        Assert.True(server.Local.Cid == listening.Cid, $"an accepted socket's getsockname is the listening machine's CID: {seen}");
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §5")]
    public async Task TwoMachine_Connect_NobodyListening_ECONNRESET(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var probe = await listening.ListenAsync();
        var target = Target(listening, probe);
        await probe.CloseAsync();
        await ThrowsAsync(() => connecting.ConnectAsync(target), Errno.ECONNRESET);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §5")]
    public async Task TwoMachine_Connect_UnknownCid_Fails(Listener listener)
    {
        // The errno depends on the connecting machine's transport: ENODEV where no transport reaches the CID (simulator,
        // loopback only), ECONNRESET where the host side answers for it (a guest on the vhost-user device), ENETUNREACH
        // (VMware), ETIMEDOUT (a KVM host drops it). What every transport shares: no connection, within the timeout.
        var (_, connecting) = Sides(listener);
        await ThrowsAsync(() => connecting.ConnectAsync(new VsockAddress(40_000, 1234), new VsockOptions { ConnectTimeout = TimeSpan.FromSeconds(2) }),
            Errno.ENODEV, Errno.ECONNRESET, Errno.ENETUNREACH, Errno.ETIMEDOUT);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §7")]
    public async Task TwoMachine_HalfClose_ListenerReadsEndThenStillSends(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var (server, client) = await PairAsync(listening, connecting);
        await client.SendAsync(1000, 1);
        await client.ShutdownSendAsync();
        Assert.Equal(new StreamDigest(1000, PayloadStream.Sha256(1000, 1), true), await server.ReceiveAsync());
        await server.SendAsync(3000, 2);
        await server.ShutdownSendAsync();
        Assert.Equal(new StreamDigest(3000, PayloadStream.Sha256(3000, 2), true), await client.ReceiveAsync());
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §7")]
    public async Task TwoMachine_Close_PeerReadsTheDataThenEnd(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var (server, client) = await PairAsync(listening, connecting);
        await server.SendAsync(5000, 3);
        await server.CloseAsync();
        Assert.Equal(new StreamDigest(5000, PayloadStream.Sha256(5000, 3), true), await client.ReceiveAsync());
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §7")]
    public async Task TwoMachine_Close_ThenPeersSendFailsWithEPIPE(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var (server, client) = await PairAsync(listening, connecting);
        await client.CloseAsync();
        Assert.True((await server.ReceiveAsync()).EndOfStream);
        await ThrowsAsync(() => server.SendAsync(64 * 1024, 4), Errno.EPIPE, Errno.ECONNRESET);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §4")]
    public async Task TwoMachine_Options_AcceptedConnectionInheritsTheListenersOptions(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var options = new VsockOptions { BufferMaxSize = 1 << 20, BufferSize = 512 * 1024, ConnectTimeout = TimeSpan.FromMilliseconds(1500) };
        var (server, client) = await PairAsync(listening, connecting, listenOptions: options);
        Assert.Equal(512UL * 1024, await server.GetOptionAsync(VsockOption.BufferSize));
        Assert.Equal(1UL << 20, await server.GetOptionAsync(VsockOption.BufferMaxSize));
        Assert.Equal(1500UL, await server.GetOptionAsync(VsockOption.ConnectTimeout));
        Assert.Equal(VsockOptions.DefaultBufferSize, await client.GetOptionAsync(VsockOption.BufferSize));
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §4")]
    public async Task TwoMachine_Options_ConnectorsOptionsAreInEffect(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var options = new VsockOptions { BufferMinSize = 4096, BufferSize = 64 * 1024, ConnectTimeout = TimeSpan.FromMilliseconds(3000) };
        var (server, client) = await PairAsync(listening, connecting, connectOptions: options);
        Assert.Equal(64UL * 1024, await client.GetOptionAsync(VsockOption.BufferSize));
        Assert.Equal(4096UL, await client.GetOptionAsync(VsockOption.BufferMinSize));
        Assert.Equal(3000UL, await client.GetOptionAsync(VsockOption.ConnectTimeout));
        Assert.Equal(VsockOptions.DefaultBufferSize, await server.GetOptionAsync(VsockOption.BufferSize));
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §7")]
    public async Task TwoMachine_Transfer_32MiBEachWayChecksummed(Listener listener)
    {
        const long Size = 32L << 20;
        var (listening, connecting) = Sides(listener);
        var (server, client) = await PairAsync(listening, connecting);
        var received = server.ReceiveAsync(Size);
        await client.SendAsync(Size, 5);
        Assert.Equal(new StreamDigest(Size, PayloadStream.Sha256(Size, 5), false), await received);
        var back = client.ReceiveAsync(Size);
        await server.SendAsync(Size, 6);
        Assert.Equal(new StreamDigest(Size, PayloadStream.Sha256(Size, 6), false), await back);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §4")]
    public async Task TwoMachine_ConnectTimeout_PartitionedPeer_ETIMEDOUT(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        if (Fabric is null)
            Assert.Skip("needs the simulator fabric both machines share (to partition them); this process cannot reach it");
        // Only the listener's port: the agent's control channel rides the same pair of machines and must keep moving.
        var target = await listening.ListenAsync();
        Fabric.Faults.Partition(listening.Cid, connecting.Cid, target.Address.Port);
        try
        {
            await ThrowsAsync(() => connecting.ConnectAsync(Target(listening, target), new VsockOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }),
                Errno.ETIMEDOUT);
        }
        finally
        {
            Fabric.Faults.Heal(listening.Cid);
        }
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §6")]
    public async Task TwoMachine_VmwareTopology_GuestToGuestRefused(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        if (Fabric is not null && (Local.Cid == VmciCid.Host) != (Peer.Cid == VmciCid.Host))
        {
            // This process adds a second guest beside the guest of the pair (the agent's machine or its own): under vmware
            // the guests cannot reach each other, the host still reaches the guest across the two processes.
            var guestOfPair = Local.Cid == VmciCid.Host ? Peer : Local;
            var previous = Fabric.Topology;
            Fabric.Topology = SimTopology.Vmware;
            using var guest = new LocalMachine(Fabric.Join(Math.Max(Local.Cid, Peer.Cid) + 1), Token);
            try
            {
                var (guestListening, guestConnecting) = listener == Listener.Local ? ((IMachine)guest, guestOfPair) : (guestOfPair, guest);
                var target = await guestListening.ListenAsync();
                await ThrowsAsync(() => guestConnecting.ConnectAsync(Target(guestListening, target)), Errno.ENETUNREACH, Errno.ECONNRESET);
                var (server, _) = await PairAsync(listening, connecting); // host and guest still reach each other
                Assert.Equal(connecting.Cid, server.Remote.Cid);
            }
            finally
            {
                Fabric.Topology = previous;
            }
            return;
        }
        if (Environment.GetEnvironmentVariable(TopologyVariable) != "vmware" || Local.Cid < VmciCid.FirstGuest || Peer.Cid < VmciCid.FirstGuest)
            Assert.Skip($"needs the shared simulator fabric with a host and a guest, or two guests (CIDs ≥ 3) on a fabric with the vmware topology ({TopologyVariable}=vmware)");
        var refused = await listening.ListenAsync();
        await ThrowsAsync(() => connecting.ConnectAsync(Target(listening, refused)), Errno.ENETUNREACH, Errno.ECONNRESET);
    }

    /// <summary>Set to <c>vmware</c> when the two machines are guests on a fabric with the vmware topology.</summary>
    public const string TopologyVariable = "VMCI_CONFORMANCE_TOPOLOGY";
}
