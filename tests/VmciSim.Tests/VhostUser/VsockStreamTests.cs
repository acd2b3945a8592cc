using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.Internal;
using Vmci.Sim.VhostUser.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// Every virtio-vsock operation through the device, between a fake guest (CID 3) and simulated machines: connect both
/// ways with the real peer addresses, data both ways split to the guest's buffers and credit, half-close with each
/// SHUTDOWN flag, reset, credit update and request.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class VsockStreamTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private CancellationToken Ct => Watchdog.Token;

    /// <summary>The buf_alloc a device announces by default.</summary>
    private static readonly uint DefaultBufferSize = new Vmci.Sim.VhostUser.VhostUserDeviceOptions().BufferSize;

    [Fact]
    public async Task GuestConnect_ToHostListener_AcceptSeesTheGuestsCidAndPort()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var response = link.Response;

        Assert.Equal(new VsockAddress(3, 40000), link.Server.RemoteAddress);
        Assert.Equal((2UL, link.Listener.LocalAddress.Port, 3UL, 40000u), (response.SourceCid, response.SourcePort, response.DestinationCid, response.DestinationPort));
        Assert.Equal(DefaultBufferSize, response.BufferAllocation);
    }

    [Fact]
    public async Task Data_BothWays_ArrivesWhole_AndGuestPacketsFitItsBuffers()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);

        await BothWaysAsync(link, up: 100_000, down: 150_000);
    }

    [Fact]
    public async Task ClosingLine_CountsEveryKickAndInterrupt_AsTheGuestSawThem()
    {
        var link = await GuestToHost.ConnectAsync(Fabric);
        await using (link)
        {
            var guest = link.Guest;
            await BothWaysAsync(link, up: 200_000, down: 100_000);

            guest.FrontEnd.Close();
            await guest.Run.WaitAsync(Ct); // the session is over: the device's counters are final

            var s = guest.Device.Core!.Statistics;
            Assert.Equal((guest.Rx.Kicks, guest.Tx.Kicks), (s.Kicks[0], s.Kicks[1]));
            Assert.Equal((guest.Rx.TakeInterrupts(), guest.Tx.TakeInterrupts()), (s.Calls[0], s.Calls[1]));
            Assert.True(s.Calls[0] > 0 && s.Calls[1] > 0, $"interrupts RX {s.Calls[0]} TX {s.Calls[1]}");
            Assert.Contains(guest.Log, l => l.Contains($"kicks RX {s.Kicks[0]} TX {s.Kicks[1]}, interrupts RX {s.Calls[0]} TX {s.Calls[1]}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ClosingLine_TimesTheGuestsAnswerToAnInterrupt()
    {
        var link = await GuestToHost.ConnectAsync(Fabric);
        await using (link)
        {
            var (guest, _, host) = link;
            // A slow guest: it answers each TX interrupt with its next packet (a kick) only after this long.
            var slow = TimeSpan.FromMilliseconds(40);
            guest.Tx.TakeInterrupts();
            for (var i = 0; i < 4; i++)
            {
                guest.Send(VsockOp.ReadWrite, 40000, host, "x"u8);
                await guest.Tx.WaitInterruptAsync(Ct);
                await Delay.AtLeastAsync(slow, Ct); // a plain timer may end a few milliseconds early
            }

            guest.FrontEnd.Close();
            await guest.Run.WaitAsync(Ct); // the session is over: the device's figures are final

            var statistics = guest.Device.Core!.Statistics;
            var turnaround = statistics.GuestTurnaround;
            Assert.True(turnaround.Count >= 3, $"{turnaround.Count} answers timed");
            // Three of the answers took at least `slow`; at most two others (the handshake's) were quick.
            Assert.True(turnaround.Percentile(0.5) >= slow, turnaround.Summary());
            Assert.True(statistics.DeviceWork.Count > 0);
            Assert.Contains(guest.Log, l => l.Contains($"the guest's kick after an interrupt: {turnaround.Summary()}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task HostNotReading_GuestDataWaitsInTheDevice_ThenArrivesWhole()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        // More than a Unix socket buffers: the device's sends would block, so it polls the socket until the host reads.
        var data = GuestSide.Payload((int)(DefaultBufferSize * 3 / 4), 9);
        guest.Write(40000, host, data, packet: 65536);
        guest.Send(VsockOp.CreditRequest, 40000, host);
        var (update, _) = await guest.ExpectAsync(VsockOp.CreditUpdate);
        Assert.True(update.ForwardCount < data.Length, "the Unix socket took everything: nothing waited");

        Assert.Equal(data, await server.ReadExactlyAsync(data.Length, Ct));
    }

    [Fact]
    public async Task HostConnect_ToGuestPort_GuestSeesTheHostsAddress_AndBothEndsTalk()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var host = Fabric.Machine(2);
            var connect = host.ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask();

            var (request, _) = await guest.ExpectAsync(VsockOp.Request);
            Assert.Equal((2UL, 3UL, 5000u), (request.SourceCid, request.DestinationCid, request.DestinationPort));
            var peer = new VsockAddress(2, request.SourcePort);
            guest.Send(VsockOp.Response, 5000, peer);
            using var client = await connect.WaitAsync(Ct);

            Assert.Equal(new VsockAddress(3, 5000), client.RemoteAddress);
            Assert.Equal(request.SourcePort, client.LocalAddress.Port);
            await client.SendAsync("ping"u8.ToArray(), Ct).AsTask().WaitAsync(Ct);
            Assert.Equal("ping"u8.ToArray(), await guest.ReadAsync(4));
            guest.Write(5000, peer, "pong"u8);
            Assert.Equal("pong"u8.ToArray(), await client.ReadExactlyAsync(4, Ct));
        }
    }

    [Fact]
    public async Task HostConnect_GuestAnswersRst_ConnectFailsWithEconnreset()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var connect = Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask();
            var (request, _) = await guest.ExpectAsync(VsockOp.Request);

            guest.Send(VsockOp.Reset, 5000, new VsockAddress(2, request.SourcePort));

            var e = await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => connect);
            Assert.Contains("nobody listens on port 5000 of CID 3", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GuestConnect_NobodyListens_GuestGetsRst()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            Fabric.Machine(2);
            guest.Send(VsockOp.Request, 40000, new VsockAddress(2, 7));

            var (rst, _) = await guest.ExpectAsync(VsockOp.Reset);

            Assert.Equal((2UL, 7u, 3UL, 40000u), (rst.SourceCid, rst.SourcePort, rst.DestinationCid, rst.DestinationPort));
            Assert.Contains(guest.Log, l => l.Contains("nobody listens on port 7 of CID 2", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GuestShutdownSend_HostReadsEndOfStream_AndCanStillSend()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        guest.WriteThenShutdown(40000, host, "last"u8, flags: 2);

        Assert.Equal("last"u8.ToArray(), await server.ReadExactlyAsync(4, Ct));
        Assert.Equal(0, await server.ReceiveAsync(new byte[8], Ct).AsTask());
        await server.SendAsync("reply"u8.ToArray(), Ct).AsTask().WaitAsync(Ct);
        Assert.Equal("reply"u8.ToArray(), await guest.ReadAsync(5));
    }

    [Fact]
    public async Task HostShutdownSend_GuestGetsShutdownWithTheSendFlagOnly_AndCanStillSend()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;

        var shutdown = await ByeThenShutdownAsync(link, server.ShutdownSend);

        Assert.Equal(2u, shutdown.Flags); // VIRTIO_VSOCK_SHUTDOWN_SEND only: the guest may still write
        guest.Write(40000, host, "still here"u8);
        Assert.Equal("still here"u8.ToArray(), await server.ReadExactlyAsync(10, Ct));
    }

    [Fact]
    public async Task HostCloses_GuestGetsShutdownWithBothFlags_AsFromALinuxPeersClose()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;

        var shutdown = await ByeThenShutdownAsync(link, server.Dispose);

        Assert.Equal(3u, shutdown.Flags); // the guest's next write fails with EPIPE, as after a Linux peer's close
        guest.Send(VsockOp.Reset, 40000, host); // what the guest kernel answers once it has read everything
        guest.Send(VsockOp.CreditRequest, 40000, host);
        await guest.ExpectAsync(VsockOp.Reset); // the connection is gone
    }

    [Fact]
    public async Task GuestShutdownBoth_DeviceAnswersRst_HostReadsEndOfStream()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        guest.WriteThenShutdown(40000, host, "done"u8, flags: 3);

        await guest.ExpectAsync(VsockOp.Reset);
        Assert.Equal("done"u8.ToArray(), await server.ReadExactlyAsync(4, Ct));
        Assert.Equal(0, await server.ReceiveAsync(new byte[8], Ct).AsTask());
        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => server.SendAsync(new byte[1], Ct).AsTask()); // closed, not half-closed
    }

    [Fact]
    public async Task GuestShutdownReceive_HostSendFailsWithEpipe()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        guest.Send(VsockOp.Shutdown, 40000, host, flags: 1);
        // A credit request is answered in order: once it is back, the shutdown was applied.
        guest.Send(VsockOp.CreditRequest, 40000, host);
        await guest.ExpectAsync(VsockOp.CreditUpdate);

        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => server.SendAsync(new byte[10], Ct).AsTask());
    }

    [Fact]
    public async Task GuestReset_HostReadsEndOfStream_ThenSendFailsWithEpipe()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        guest.Send(VsockOp.Reset, 40000, host);

        Assert.Equal(0, await server.ReceiveAsync(new byte[8], Ct).AsTask());
        await VmciAssert.ThrowsAsync(Errno.EPIPE, () => server.SendAsync(new byte[10], Ct).AsTask());
    }

    [Fact]
    public async Task CreditRequest_AnsweredWithCreditUpdate_CarryingForwardedBytes()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        guest.Write(40000, host, new byte[1000]);
        await server.ReadExactlyAsync(1000, Ct);

        guest.Send(VsockOp.CreditRequest, 40000, host);
        var (update, _) = await guest.ExpectAsync(VsockOp.CreditUpdate);

        Assert.Equal(1000u, update.ForwardCount);
        Assert.Equal(DefaultBufferSize, update.BufferAllocation);
    }

    [Fact]
    public async Task ManyBytesFromGuest_DeviceSendsCreditUpdatesUnasked()
    {
        await using var link = await GuestToHost.ConnectAsync(Fabric);
        var (guest, server, host) = link;
        var size = (int)(FakeGuest.DefaultBufferAllocation * 3 / 4); // within the credit, beyond the quarter of the guest's window after which the device reports
        var reading = server.ReadExactlyAsync(size, Ct);
        guest.Write(40000, host, new byte[size]);
        await reading.WaitAsync(Ct);

        var (update, _) = await guest.ExpectAsync(VsockOp.CreditUpdate);
        // The guest's window is the smaller of the two buf_allocs (GuestKeepsOnlyItsOwnBufAllocInFlight_…).
        Assert.True(update.ForwardCount >= Math.Min(DefaultBufferSize, FakeGuest.DefaultBufferAllocation) / 4, $"fwd_cnt {update.ForwardCount}");
    }

    [Fact]
    public async Task GuestKeepsOnlyItsOwnBufAllocInFlight_DeviceUpdatesWithinThatWindow()
    {
        // As Debian's 6.1 guest kernel does: it never has more than its own buf_alloc (256 KiB) in flight, however much
        // the device offers (4 MiB here). The device's updates must come within that window, or the transfer stops.
        await using var link = await GuestToHost.ConnectAsync(Fabric, configure: o => o.BufferSize = 4 * 1024 * 1024);
        var (guest, server, host) = link;
        var data = GuestSide.Payload(1024 * 1024, seed: 7);
        var reading = server.ReadExactlyAsync(data.Length, Ct);

        await guest.WriteWithinCreditAsync(40000, host, data, FakeGuest.DefaultBufferAllocation);

        Assert.Equal(data, await reading.WaitAsync(Ct));
    }

    [Fact]
    public async Task HostSendsMore_ThanGuestCredit_DeviceWaitsForTheGuestsCreditUpdate()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            const uint window = 8192;
            using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var host = new VsockAddress(2, listener.LocalAddress.Port);
            var accept = listener.AcceptAsync(Ct).AsTask();
            guest.Send(VsockOp.Request, 40000, host, bufferAllocation: window);
            await guest.ExpectAsync(VsockOp.Response);
            using var server = await accept.WaitAsync(Ct);
            var data = GuestSide.Payload(5 * (int)window, 3);
            await server.SendAsync(data, Ct).AsTask().WaitAsync(Ct);

            var received = new List<byte>();
            while (received.Count < data.Length)
            {
                // Exactly one window arrives; then the guest must announce what it consumed.
                received.AddRange(await guest.ReadAsync((int)window));
                guest.Send(VsockOp.CreditRequest, 40000, host, bufferAllocation: window, forwardCount: (uint)received.Count - window);
                var (next, _) = await guest.ReceiveAsync();
                Assert.True(next.Op == VsockOp.CreditUpdate, $"a packet beyond the guest's credit: {next}");
                guest.Send(VsockOp.CreditUpdate, 40000, host, bufferAllocation: window, forwardCount: (uint)received.Count);
            }
            Assert.Equal(data, received);
        }
    }

    [Fact]
    public async Task GuestToItself_ThroughCid1_RequestComesFromCid1_AndBytesFlow()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var request = await guest.RequestItselfAsync(40000, 5000);

            // The listening side of the same guest sees a connection from (1, 40000) to (1, 5000), as on loopback.
            Assert.Equal((1UL, 40000u, 1UL, 5000u), (request.SourceCid, request.SourcePort, request.DestinationCid, request.DestinationPort));
            guest.Send(VsockOp.Response, 5000, new VsockAddress(VmciCid.Local, 40000));
            var (response, _) = await guest.ExpectAsync(VsockOp.Response);
            Assert.Equal((1UL, 5000u, 40000u), (response.SourceCid, response.SourcePort, response.DestinationPort));

            guest.Write(40000, new VsockAddress(VmciCid.Local, 5000), "across"u8);
            var (data, payload) = await guest.ExpectAsync(VsockOp.ReadWrite);
            Assert.Equal((1UL, 40000u, 5000u), (data.SourceCid, data.SourcePort, data.DestinationPort));
            Assert.Equal("across"u8.ToArray(), payload);
        }
    }

    [Fact]
    public async Task GuestToItself_NobodyListens_GuestRstFromCid1_ReachesTheConnector()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            await guest.RequestItselfAsync(40000, 5000);

            // The guest kernel answers from the address it was reached at: source CID 1 (virtio_transport_reset_no_sock).
            var rst = guest.Packet(VsockOp.Reset, 5000, new VsockAddress(VmciCid.Local, 40000));
            rst.SourceCid = VmciCid.Local;
            guest.Send(rst);

            var (reset, _) = await guest.ExpectAsync(VsockOp.Reset);
            Assert.Equal((1UL, 5000u, 40000u), (reset.SourceCid, reset.SourcePort, reset.DestinationPort));
        }
    }

    [Fact]
    public async Task TwoGuests_OneFabric_ConnectToEachOther_WithRealAddresses()
    {
        var guest3 = FakeGuest.Create(Fabric, cid: 3);
        var guest4 = FakeGuest.Create(Fabric, cid: 4);
        await using (guest3)
        await using (guest4)
        {
            guest3.Send(VsockOp.Request, 40000, new VsockAddress(4, 6000));
            var (request, _) = await guest4.ExpectAsync(VsockOp.Request);
            Assert.Equal((3UL, 40000u, 4UL, 6000u), (request.SourceCid, request.SourcePort, request.DestinationCid, request.DestinationPort));
            guest4.Send(VsockOp.Response, 6000, new VsockAddress(3, 40000));
            var (response, _) = await guest3.ExpectAsync(VsockOp.Response);
            Assert.Equal((4UL, 6000u), (response.SourceCid, response.SourcePort));

            var data = GuestSide.Payload(300_000, 4);
            var reading = guest4.ReadAsync(data.Length, credit: (6000, new VsockAddress(3, 40000)));
            var writer = Task.Run(() => guest3.WriteWithinCreditAsync(40000, new VsockAddress(4, 6000), data, response.BufferAllocation), Ct);
            Assert.Equal(data, await reading.WaitAsync(Ct));
            await writer.WaitAsync(Ct);
        }
    }

    /// <summary>The host sends "bye", then <paramref name="ends"/> its side; the guest reads the bye, then the SHUTDOWN it returns.</summary>
    private async Task<VsockHeader> ByeThenShutdownAsync(GuestToHost link, Action ends)
    {
        await link.Server.SendAsync("bye"u8.ToArray(), Ct).AsTask().WaitAsync(Ct);
        ends();

        Assert.Equal("bye"u8.ToArray(), await link.Guest.ReadAsync(3));
        return (await link.Guest.ExpectAsync(VsockOp.Shutdown)).Header;
    }

    /// <summary>The guest writes <paramref name="up"/> bytes to the host, the host <paramref name="down"/> to the guest; both arrive whole.</summary>
    private async Task BothWaysAsync(GuestToHost link, int up, int down)
    {
        var (guest, server, host) = link;
        var upBytes = GuestSide.Payload(up, 1);
        var downBytes = GuestSide.Payload(down, 2);
        guest.Write(40000, host, upBytes);
        Assert.Equal(upBytes, await server.ReadExactlyAsync(upBytes.Length, Ct));
        await server.SendAsync(downBytes, Ct).AsTask().WaitAsync(Ct);
        Assert.Equal(downBytes, await guest.ReadAsync(downBytes.Length, maxPacket: 4096));
    }
}
