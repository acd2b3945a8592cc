using System.Net.Sockets;
using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.VhostUser.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// A guest is untrusted. Broken virtqueues (loops, addresses outside guest memory, impossible indexes, descriptors of
/// the wrong direction, indirect tables, buffers too small for a header) stop the device with the rule named; a bogus
/// packet (wrong type, unknown op, len beyond its descriptors, a foreign source CID, a credit violation) resets its
/// connection only; floods stay within fixed bounds.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostileGuestTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private CancellationToken Ct => Watchdog.Token;

    public static TheoryData<string, string> BrokenQueues => new()
    {
        { "loop", "TX descriptor chain from 0 loops" },
        { "outside", "TX descriptor 0 points outside guest memory (0x80000000, 64 bytes)" },
        { "straddle", "TX descriptor 0 points outside guest memory (0xff000, 8192 bytes)" },
        { "head", "TX descriptor index 200 is outside the queue of 128" },
        { "next", "TX descriptor index 500 is outside the queue of 128" },
        { "avail-jump", "TX available index moved 300 entries ahead of the device, more than the queue size 128" },
        { "indirect", "TX descriptor 0 is indirect, but VIRTIO_RING_F_INDIRECT_DESC was not negotiated" },
        { "tx-writable", "TX descriptor 0 is device-writable; the TX queue takes only device-readable buffers" },
        { "rx-readable", "RX descriptor 0 is device-readable; the RX queue takes only device-writable buffers" },
        { "short-packet", "TX packet of 20 bytes is shorter than the 44-byte virtio-vsock header" },
        { "short-rx", "RX buffer of 16 bytes cannot hold the 44-byte virtio-vsock header" },
    };

    [Theory]
    [MemberData(nameof(BrokenQueues))]
    public async Task BrokenQueue_StopsTheDevice_NamingTheRule(string which, string rule)
    {
        var guest = FakeGuest.Create(Fabric, rxBuffers: which is "rx-readable" or "short-rx" ? 0 : 4);
        await using (guest)
        {
            var tx = guest.Tx;
            var buffer = guest.Memory.AllocateBuffer(128);
            guest.Packet(VsockOp.Request, 1, new VsockAddress(2, 9)).Write(guest.Memory.At(buffer, VsockHeader.Size));
            switch (which)
            {
                case "loop":
                    tx.WriteDescriptor(0, buffer, 8, FakeQueue.F_NEXT, 1);
                    tx.WriteDescriptor(1, buffer, 8, FakeQueue.F_NEXT, 0);
                    tx.Publish(0);
                    break;
                case "outside":
                    tx.WriteDescriptor(0, 0x8000_0000, 64, 0, 0);
                    tx.Publish(0);
                    break;
                case "straddle": // starts in region A, runs past its end into unmapped guest addresses
                    tx.WriteDescriptor(0, FakeGuestMemory.RegionASize - 0x1000, 8192, 0, 0);
                    tx.Publish(0);
                    break;
                case "head":
                    tx.Publish(200);
                    break;
                case "next":
                    tx.WriteDescriptor(0, buffer, 8, FakeQueue.F_NEXT, 500);
                    tx.Publish(0);
                    break;
                case "avail-jump":
                    tx.SetAvailableIndex(300);
                    break;
                case "indirect":
                    tx.WriteDescriptor(0, buffer, 16, FakeQueue.F_INDIRECT, 0);
                    tx.Publish(0);
                    break;
                case "tx-writable":
                    tx.WriteDescriptor(0, buffer, 64, FakeQueue.F_WRITE, 0);
                    tx.Publish(0);
                    break;
                case "short-packet":
                    tx.WriteDescriptor(0, buffer, 20, 0, 0);
                    tx.Publish(0);
                    break;
                case "rx-readable":
                    guest.Rx.WriteDescriptor(0, buffer, 64, 0, 0);
                    guest.Rx.Publish(0);
                    guest.Send(VsockOp.Request, 1, new VsockAddress(2, 9)); // the RST needs an RX buffer
                    break;
                case "short-rx":
                    guest.Rx.WriteDescriptor(0, buffer, 16, FakeQueue.F_WRITE, 0);
                    guest.Rx.Publish(0);
                    guest.Send(VsockOp.Request, 1, new VsockAddress(2, 9));
                    break;
            }
            tx.Notify();
            guest.Rx.Notify();

            var e = await guest.FailureAsync();

            Assert.Equal(Errno.EINVAL, e.Errno);
            Assert.Contains(rule, e.Message, StringComparison.Ordinal);
            Assert.Contains("guest CID 3", e.Message, StringComparison.Ordinal);
            Assert.True(guest.FrontEnd.DeviceClosed());
        }
    }

    [Fact]
    public async Task BrokenQueue_WithLiveConnections_ClosesTheirFabricEnds()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);

        link.Guest.Tx.Publish(200);
        link.Guest.Tx.Notify();
        await link.Guest.FailureAsync();

        Assert.Equal(0, await link.Server.ReceiveAsync(new byte[8], Ct).AsTask());
    }

    public static TheoryData<string, string> BogusPackets => new()
    {
        { "type", "type 2 is not VIRTIO_VSOCK_TYPE_STREAM (1), the only type offered" },
        { "op", "op 9 is not a virtio-vsock operation" },
        { "op-zero", "op 0 is not a virtio-vsock operation" },
        { "len", "len 5000 is larger than the 100 payload bytes its descriptors hold" },
        { "source", "source CID 9 is not the guest's CID 3" },
        { "payload", "Request carries 10 payload bytes; only RW carries data" },
        { "no-connection", "" },
    };

    [Theory]
    [MemberData(nameof(BogusPackets))]
    public async Task BogusPacket_WithoutConnection_AnsweredWithRst_DeviceCarriesOn(string which, string rule)
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var to = new VsockAddress(2, 9);
            var h = guest.Packet(VsockOp.Request, 1234, to);
            var payload = Array.Empty<byte>();
            switch (which)
            {
                case "type": h.Type = 2; break;
                case "op": h.Op = (VsockOp)9; break;
                case "op-zero": h.Op = VsockOp.Invalid; break;
                case "len": h.Length = 5000; payload = new byte[100]; break;
                case "source": h.SourceCid = 9; break;
                case "payload": h.Length = 10; payload = new byte[10]; break;
                case "no-connection": h.Op = VsockOp.ReadWrite; h.Length = 3; payload = new byte[3]; break;
            }
            guest.Send(h, payload);

            var (rst, _) = await guest.ExpectAsync(VsockOp.Reset);

            Assert.Equal((2UL, 9u, 1234u), (rst.SourceCid, rst.SourcePort, rst.DestinationPort));
            if (rule.Length > 0)
                Assert.Contains(guest.Log, l => l.Contains(rule, StringComparison.Ordinal));
            Assert.False(guest.Run.IsCompleted);
        }
    }

    [Fact]
    public async Task BogusPacket_OnAConnection_ResetsItOnly()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, victim, host) = link;
        using var bystander = await link.ConnectAgainAsync(40001);

        var lying = guest.Packet(VsockOp.ReadWrite, 40000, host, length: 70_000);
        guest.Send(lying, new byte[100]);

        await guest.ExpectAsync(VsockOp.Reset);
        Assert.Equal(0, await victim.ReceiveAsync(new byte[8], Ct).AsTask());
        guest.Write(40001, host, "fine"u8);
        Assert.Equal("fine"u8.ToArray(), await bystander.ReadExactlyAsync(4, Ct));
        Assert.Contains(guest.Log, l => l.Contains("len 70000 is larger than the 100 payload bytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreditViolation_ResetsTheConnection()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric, configure: o => o.BufferSize = 4096);
        var (guest, server, host) = link;
        Assert.Equal(4096u, link.Response.BufferAllocation);

        guest.Write(40000, host, new byte[5000], packet: 5000);

        await guest.ExpectAsync(VsockOp.Reset);
        Assert.Equal(0, await server.ReceiveAsync(new byte[8], Ct).AsTask());
        Assert.Contains(guest.Log, l => l.Contains("credit violation: 5000 bytes sent with 0 unforwarded, beyond the 4096-byte buf_alloc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectionCap_ExtraRequestsGetRst()
    {
        var guest = FakeGuest.Create(Fabric, configure: o => o.MaxConnections = 2);
        await using (guest)
        {
            using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var host = new VsockAddress(2, listener.LocalAddress.Port);
            await guest.ConnectAsync(40000, host);
            await guest.ConnectAsync(40001, host);

            guest.Send(VsockOp.Request, 40002, host);

            var (rst, _) = await guest.ExpectAsync(VsockOp.Reset);
            Assert.Equal(40002u, rst.DestinationPort);
            Assert.Contains(guest.Log, l => l.Contains("the guest has 2 connections (the per-guest cap)", StringComparison.Ordinal));
            // Inbound connections count too.
            await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 7000), null, Ct).AsTask());
        }
    }

    [Fact]
    public async Task RstFlood_WithoutRxBuffers_StaysBounded()
    {
        var guest = FakeGuest.Create(Fabric, rxBuffers: 0);
        await using (guest)
        {
            const int packets = 1200;
            for (var i = 0; i < packets; i++)
                guest.Send(VsockOp.ReadWrite, (uint)(10_000 + i), new VsockAddress(2, 9), "x"u8);
            while (guest.Tx.UsedIndex != packets % 65536)
                await guest.Tx.WaitUsedAsync(Ct);

            var statistics = guest.Device.Core!.Statistics;
            Assert.Equal(packets - 1024, statistics.DroppedResets);
            guest.PostRx(8);
            for (var i = 0; i < 8; i++)
                await guest.ExpectAsync(VsockOp.Reset);
        }
    }

    [Fact]
    public async Task RequestFlood_BeyondTheCap_AllRefused_TableStaysAtTheCap()
    {
        var guest = FakeGuest.Create(Fabric, configure: o => o.MaxConnections = 16, rxBuffers: 64);
        await using (guest)
        {
            using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var host = new VsockAddress(2, listener.LocalAddress.Port);
            for (var i = 0; i < 48; i++)
                guest.Send(VsockOp.Request, (uint)(20_000 + i), host);

            var responses = 0;
            var resets = 0;
            while (responses + resets < 48)
            {
                var (h, _) = await guest.ReceiveAsync();
                if (h.Op == VsockOp.Response)
                    responses++;
                else if (h.Op == VsockOp.Reset)
                    resets++;
            }
            Assert.Equal(16, responses);
            Assert.Equal(32, resets);
        }
    }

    [Fact]
    public async Task GuestNeverAnswers_ConnectorGetsEtimedout_GuestGetsRst()
    {
        var guest = FakeGuest.Create(Fabric, configure: o => o.AcceptTimeout = TimeSpan.FromMilliseconds(300));
        await using (guest)
        {
            var connect = Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), new VsockOptions { ConnectTimeout = TimeSpan.FromSeconds(20) }, Ct).AsTask();
            await guest.ExpectAsync(VsockOp.Request);

            await VmciAssert.ThrowsAsync(Errno.ETIMEDOUT, () => connect);
            var (rst, _) = await guest.ExpectAsync(VsockOp.Reset);
            Assert.Equal(5000u, rst.DestinationPort);
        }
    }

    [Fact]
    public async Task GatewayGarbage_Refused_DeviceKeepsServing()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            using (var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await raw.ConnectAsync(new UnixDomainSocketEndPoint(guest.Device.Gateway!.Path), Ct).AsTask().WaitAsync(Ct);
                await raw.SendAsync("GARBAGE\n"u8.ToArray(), SocketFlags.None, Ct).AsTask().WaitAsync(Ct);
                var reply = new byte[7];
                Assert.Equal(7, await raw.ReceiveAsync(reply, SocketFlags.None, Ct).AsTask().WaitAsync(Ct));
                Assert.Equal("ER 022\n"u8.ToArray(), reply);
            }
            using (var wrongCid = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await wrongCid.ConnectAsync(new UnixDomainSocketEndPoint(guest.Device.Gateway!.Path), Ct).AsTask().WaitAsync(Ct);
                await wrongCid.SendAsync("VMCI1 2 1000 4 5000\n"u8.ToArray(), SocketFlags.None, Ct).AsTask().WaitAsync(Ct);
                var reply = new byte[7];
                Assert.Equal(7, await wrongCid.ReceiveAsync(reply, SocketFlags.None, Ct).AsTask().WaitAsync(Ct));
                Assert.Equal("ER 104\n"u8.ToArray(), reply);
            }

            var connect = Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask();
            var (request, _) = await guest.ExpectAsync(VsockOp.Request);
            guest.Send(VsockOp.Response, 5000, new VsockAddress(2, request.SourcePort));
            using var client = await connect.WaitAsync(Ct);
        }
    }
}
