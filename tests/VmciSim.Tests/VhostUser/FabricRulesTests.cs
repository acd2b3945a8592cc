using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim;
using Vmci.Sim.VhostUser.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>The fabric's rules hold for a real guest's connections: topology, faults, one owner per CID.</summary>
[SupportedOSPlatform("linux")]
public sealed class FabricRulesTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private CancellationToken Ct => Watchdog.Token;

    [Fact]
    public async Task VmwareTopology_GuestToGuest_Rst_GuestToHost_Allowed()
    {
        Fabric.Fabric.Topology = SimTopology.Vmware;
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            using var other = Fabric.Machine(4).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            using var host = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

            guest.Send(VsockOp.Request, 40000, new VsockAddress(4, other.LocalAddress.Port));
            await guest.ExpectAsync(VsockOp.Reset);
            await guest.ConnectAsync(40001, new VsockAddress(2, host.LocalAddress.Port));

            Assert.Contains(guest.Log, l => l.Contains("ENETUNREACH", StringComparison.Ordinal) && l.Contains("vmware topology", StringComparison.Ordinal));
            // And the other way: a simulated guest cannot reach the real one.
            await VmciAssert.ThrowsAsync(Errno.ENETUNREACH, () => Fabric.Machine(4).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask());
        }
    }

    /// <summary>
    /// A connection to a real guest arrives at the device's gateway; the gateway checks, as a listener does, that the
    /// connector holds the CID it claims (its end bound in that machine's directory): the guest's accept reports it.
    /// </summary>
    [Theory]
    [InlineData(null, 2u, "ER 001")]   // unbound: proves no CID
    [InlineData(2u, 4u, "ER 001")]     // bound in machine 2, claims 4
    [InlineData(2u, 2u, "OK 000")]     // what it holds
    public async Task GatewayConnector_ClaimedSource_CheckedByTheGateway(uint? boundIn, uint claimed, string expected)
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            using var raw = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            if (boundIn is { } machine)
            {
                Fabric.Machine(machine);
                raw.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(Fabric.Directory, machine.ToString(System.Globalization.CultureInfo.InvariantCulture), ".c" + Guid.NewGuid().ToString("N")[..8])));
            }
            await raw.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(guest.Device.Gateway!.Path), Ct).AsTask().WaitAsync(Ct);
            await raw.SendAsync(System.Text.Encoding.ASCII.GetBytes($"VMCI1 {claimed} 1000 3 5000\n"), System.Net.Sockets.SocketFlags.None, Ct).AsTask().WaitAsync(Ct);
            if (expected == "OK 000")
            {
                var (request, _) = await guest.ExpectAsync(VsockOp.Request);
                Assert.Equal(claimed, (uint)request.SourceCid);
                guest.Send(VsockOp.Response, 5000, new VsockAddress(claimed, request.SourcePort));
            }
            var reply = new byte[7];
            Assert.Equal(7, await raw.ReceiveAsync(reply, System.Net.Sockets.SocketFlags.None, Ct).AsTask().WaitAsync(Ct));
            Assert.Equal(expected + "\n", System.Text.Encoding.ASCII.GetString(reply));
            if (expected != "OK 000")
                Assert.Equal(0, guest.Device.Core!.Statistics.Connections);
        }
    }

    [Fact]
    public async Task VmwareTopology_TwoRealGuests_CannotConnect()
    {
        Fabric.Fabric.Topology = SimTopology.Vmware;
        var guest3 = FakeGuest.Create(Fabric, cid: 3);
        var guest4 = FakeGuest.Create(Fabric, cid: 4);
        await using (guest3)
        await using (guest4)
        {
            guest3.Send(VsockOp.Request, 40000, new VsockAddress(4, 6000));

            await guest3.ExpectAsync(VsockOp.Reset);
            Assert.Equal(0, guest4.Device.Core!.Statistics.Connections);
        }
    }

    [Fact]
    public async Task RefuseFault_GuestRequestGetsRst_AndConnectorsToTheGuestGetEconnreset()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            using var host = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            Fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Refuse, 2));
            Fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Refuse, 3));

            guest.Send(VsockOp.Request, 40000, new VsockAddress(2, host.LocalAddress.Port));
            await guest.ExpectAsync(VsockOp.Reset);
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask());

            Assert.Contains(guest.Log, l => l.Contains("simulator fault refuse", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ResetFault_GuestGetsRst_HostGetsEconnreset()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);

        Fabric.Fabric.Faults.Reset(3);

        await link.Guest.ExpectAsync(VsockOp.Reset);
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => link.Server.ReceiveAsync(new byte[8], Ct).AsTask());
    }

    [Fact]
    public async Task Partition_BytesWaitUntilHealed_NothingLost()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;

        Fabric.Fabric.Faults.Partition(3, 2);
        var up = GuestSide.Payload(50_000, 5);
        guest.Write(40000, host, up);
        var down = GuestSide.Payload(30_000, 6);
        var sending = server.SendAsync(down, Ct).AsTask();
        Fabric.Fabric.Faults.Heal(3);

        Assert.Equal(up, await server.ReadExactlyAsync(up.Length, Ct));
        Assert.Equal(down, await guest.ReadAsync(down.Length));
        await sending.WaitAsync(Ct);
    }

    [Fact]
    public async Task DeviceServedCid_FabricListen_ThrowsEaddrnotavail()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var e = VmciAssert.Throws(Errno.EADDRNOTAVAIL, () => Fabric.Machine(3).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any)));

            Assert.Contains("served by a vhost-user device", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SecondDevice_SameCid_ThrowsEaddrinuse_AtOnce()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var second = FakeGuestStarter.Options(Fabric, 3);
            await using var device = new Vmci.Sim.VhostUser.VhostUserDevice(second);

            var e = VmciAssert.Throws(Errno.EADDRINUSE, () => device.RunAsync(Ct));

            Assert.Contains("CID 3 is already served by a vhost-user device", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoFrontEndYet_ConnectToTheGuest_Econnreset()
    {
        var options = FakeGuestStarter.Options(Fabric, 3);
        await using var device = new Vmci.Sim.VhostUser.VhostUserDevice(options);
        var run = device.RunAsync(Ct);

        var e = await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask());

        Assert.False(run.IsCompleted);
        _ = e;
    }
}

/// <summary>Options for a device on a temporary fabric.</summary>
internal static class FakeGuestStarter
{
    public static Vmci.Sim.VhostUser.VhostUserDeviceOptions Options(TestFabric fabric, uint cid) => new()
    {
        Fabric = fabric.Directory,
        Cid = cid,
        SocketPath = Path.Combine(fabric.Directory, $"vhost-{cid}-{Guid.NewGuid():N}"[..28] + ".sock"),
    };
}
