using System.Buffers.Binary;
using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.VhostUser.Internal;
using Vmci.Sim.VhostUser.Linux;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>The vhost-user control plane against a fake QEMU: every message QEMU 7.2 sends, and front-ends that break the rules.</summary>
[SupportedOSPlatform("linux")]
public sealed class VhostUserProtocolTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Fact]
    public async Task Start_AsQemu72_AnswersEveryMessageAndServesTheRings()
    {
        var guest = FakeGuest.Create(Fabric, cid: 7, start: false);
        await using (guest)
        {
            var cid = guest.FrontEnd.Start(guest.Memory, guest.Rx, guest.Tx);
            guest.PostRx(4);
            // A packet for nobody proves both rings run: RST comes back on RX.
            guest.Send(VsockOp.Request, 1000, new VsockAddress(2, 9));
            await guest.ExpectAsync(VsockOp.Reset);
            var (rx, tx) = guest.FrontEnd.Stop();

            Assert.Equal(7UL, cid);
            Assert.Equal(1u, rx); // the device takes RX buffers only as it needs them: one, for the RST
            Assert.Equal(1u, tx);
            var handled = guest.Device.Core!.Handled;
            foreach (var request in new[]
            {
                VhostUserRequest.GetFeatures, VhostUserRequest.GetProtocolFeatures, VhostUserRequest.SetProtocolFeatures,
                VhostUserRequest.GetQueueNum, VhostUserRequest.SetOwner, VhostUserRequest.SetVringCall, VhostUserRequest.SetVringErr,
                VhostUserRequest.GetConfig, VhostUserRequest.SetFeatures, VhostUserRequest.SetMemTable, VhostUserRequest.SetVringNum,
                VhostUserRequest.SetVringBase, VhostUserRequest.SetVringAddr, VhostUserRequest.SetVringKick,
                VhostUserRequest.SetVringEnable, VhostUserRequest.GetVringBase,
            })
            {
                Assert.True(handled.GetValueOrDefault(request) > 0, $"{request} was not handled");
            }
        }
    }

    [Fact]
    public async Task GetConfig_PartOfTheSpace_ReadsTheCidBytesAndZerosPastIt()
    {
        var guest = FakeGuest.Create(Fabric, cid: 0x01020304, start: false);
        await using (guest)
        {
            Assert.Equal(new byte[] { 0x02, 0x01, 0, 0 }, guest.FrontEnd.GetConfig(2, 4));
            Assert.Equal(new byte[16], guest.FrontEnd.GetConfig(8, 16));
        }
    }

    [Fact]
    public async Task FrontEndCloses_DeviceEndsCleanly_GatewayGoneAndThreadEnded()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            var gateway = guest.Device.Gateway!;
            var thread = guest.Device.Core!.Thread;
            Assert.True(File.Exists(gateway.Path));

            guest.FrontEnd.Close();
            await guest.Watchdog.Guard(guest.Run);

            Assert.False(File.Exists(gateway.Path));
            Assert.True(thread.Join(Watchdog.Remaining));
            Assert.True(gateway.AcceptThread.Join(Watchdog.Remaining));
        }
    }

    [Fact]
    public async Task Cancel_StopsTheDeviceWithoutError()
    {
        using var cts = new CancellationTokenSource();
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            await guest.Device.DisposeAsync();
            await guest.Watchdog.Guard(guest.Run);
            Assert.True(guest.FrontEnd.DeviceClosed());
        }
    }

    [Fact]
    public async Task NoProtocolFeatures_RingsStartEnabledAtTheirKick()
    {
        var guest = FakeGuest.Create(Fabric, start: false);
        await using (guest)
        {
            guest.FrontEnd.Start(guest.Memory, guest.Rx, guest.Tx, protocolFeatures: false);
            guest.PostRx(2);
            guest.Send(VsockOp.Request, 1000, new VsockAddress(2, 9));
            await guest.ExpectAsync(VsockOp.Reset);
        }
    }

    [Fact]
    public async Task SetMemTable_Again_RemapsTheRings()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            guest.FrontEnd.SetMemTable(guest.Memory);
            guest.Send(VsockOp.Request, 1000, new VsockAddress(2, 9));
            await guest.ExpectAsync(VsockOp.Reset);
        }
    }

    [Fact]
    public async Task ResetOwner_StopsTheRings_ThenTheyCanBeSetUpAgain()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            guest.FrontEnd.Send(VhostUserRequest.ResetOwner, []);
            guest.FrontEnd.SetU64(VhostUserRequest.SetFeatures, (1UL << 32) | (1UL << 30));
            foreach (var q in (FakeQueue[])[guest.Rx, guest.Tx])
            {
                guest.FrontEnd.SetVringAddr((uint)q.Index, FakeGuestMemory.User(q.Descriptors), FakeGuestMemory.User(q.Used), FakeGuestMemory.User(q.Available));
                guest.FrontEnd.SetU64(VhostUserRequest.SetVringKick, (ulong)q.Index, q.Kick.Value);
                guest.FrontEnd.SetState(VhostUserRequest.SetVringEnable, (uint)q.Index, 1);
            }
            guest.Send(VsockOp.Request, 1000, new VsockAddress(2, 9));
            await guest.ExpectAsync(VsockOp.Reset);
            Assert.Equal(1, guest.Device.Core!.Handled[VhostUserRequest.ResetOwner]);
        }
    }

    public static TheoryData<string, string> BrokenMessages => new()
    {
        { "features", "acknowledges features 0x1 that were not offered" },
        { "protocol-features", "acknowledges protocol features 0x8 that were not offered" },
        { "queue-size", "queue size 100 is not a power of two" },
        { "queue-index", "names queue 2" },
        { "unknown", "vhost-user request 40: is not a request this back-end serves" },
        { "version", "has protocol version 2" },
        { "oversized", "announces 5000 payload bytes" },
        { "log-base", "dirty-page logging was not offered" },
        { "set-config", "the vsock configuration space (the guest's CID) is read-only" },
        { "payload-size", "VHOST_USER_SET_VRING_NUM: payload of 4 bytes, expected 8" },
        { "stray-fd", "VHOST_USER_SET_OWNER: carries 1 file descriptor(s) it has no use for" },
        { "kick-nofd", "has no kick eventfd: polling mode is not served" },
        { "vring-flags", "logging (VHOST_VRING_F_LOG) was not offered" },
        { "vring-outside", "is not inside one memory region" },
        { "vring-misaligned", "ring addresses are misaligned" },
        { "mem-count", "describes 2 regions but carries 1 file descriptors" },
        { "mem-short-file", "(mapping it would fault)" },
        { "mem-overlap", "overlaps another region" },
        { "mem-zero", "describes 0 regions" },
        { "config-size", "asks for 300 config bytes" },
        { "enable-value", "enable value 2 is neither 0 nor 1" },
    };

    [Theory]
    [MemberData(nameof(BrokenMessages))]
    public async Task BrokenMessage_StopsTheDevice_NamingTheRule(string which, string rule)
    {
        var guest = FakeGuest.Create(Fabric, start: false);
        await using (guest)
        {
            var f = guest.FrontEnd;
            var m = guest.Memory;
            if (which.StartsWith("vring", StringComparison.Ordinal) || which == "kick-nofd" || which == "enable-value")
            {
                f.SetU64(VhostUserRequest.SetFeatures, (1UL << 32) | (1UL << 30));
                f.SetMemTable(m);
                f.SetState(VhostUserRequest.SetVringNum, 1, 128);
            }
            using var extra = NativeIo.CreateEventFd(out _)!;
            switch (which)
            {
                case "features": f.SetU64(VhostUserRequest.SetFeatures, 1); break;
                case "protocol-features": f.SetU64(VhostUserRequest.SetProtocolFeatures, 8); break;
                case "queue-size": f.SetState(VhostUserRequest.SetVringNum, 0, 100); break;
                case "queue-index": f.SetState(VhostUserRequest.SetVringNum, 2, 128); break;
                case "unknown": f.Send((VhostUserRequest)40, []); break;
                case "version": f.Send(VhostUserRequest.GetFeatures, [], flags: 2); break;
                case "oversized": f.SendRaw(Header(VhostUserRequest.SetMemTable, 5000)); break;
                case "log-base": f.SetU64(VhostUserRequest.SetLogBase, 0); break;
                case "set-config": f.Send(VhostUserRequest.SetConfig, new byte[20]); break;
                case "payload-size": f.Send(VhostUserRequest.SetVringNum, new byte[4]); break;
                case "stray-fd": f.Send(VhostUserRequest.SetOwner, [], [extra.Value]); break;
                case "kick-nofd": f.SetU64(VhostUserRequest.SetVringKick, 1 | (1UL << 8)); break;
                case "vring-flags": f.SetVringAddr(1, FakeGuestMemory.UserBase, FakeGuestMemory.UserBase + 0x1000, FakeGuestMemory.UserBase + 0x2000, flags: 1); break;
                case "vring-outside": f.SetVringAddr(1, 0x1000, 0x2000, 0x3000); break;
                case "vring-misaligned": f.SetVringAddr(1, FakeGuestMemory.UserBase + 8, FakeGuestMemory.UserBase + 0x1000, FakeGuestMemory.UserBase + 0x2000); break;
                case "mem-count": f.SetMemTable(m, files: [m.File.Value]); break;
                case "mem-short-file": f.SetMemTable(m, [(0, FakeGuestMemory.FileSize * 2, FakeGuestMemory.UserBase, 0)]); break;
                case "mem-overlap": f.SetMemTable(m, [(0, 0x200000, FakeGuestMemory.UserBase, 0), (0x100000, 0x200000, FakeGuestMemory.UserBase + 0x200000, 0x200000)]); break;
                case "mem-zero": f.SetMemTable(m, [], []); break;
                case "config-size": f.Send(VhostUserRequest.GetConfig, ConfigRequest(0, 300)); break;
                case "enable-value": f.SetState(VhostUserRequest.SetVringEnable, 1, 2); break;
            }

            var e = await guest.FailureAsync();

            Assert.Equal(Errno.EINVAL, e.Errno);
            Assert.Contains(rule, e.Message, StringComparison.Ordinal);
            Assert.True(f.DeviceClosed(), "the device keeps its socket open after stopping");
            Assert.False(File.Exists(guest.Device.Gateway!.Path));
        }
    }

    [Fact]
    public async Task MessageCutShort_StopsTheDevice_AfterItsTimeout()
    {
        var guest = FakeGuest.Create(Fabric, start: false);
        await using (guest)
        {
            guest.FrontEnd.SendRaw(Header(VhostUserRequest.SetVringNum, 8)); // no payload follows

            var e = await guest.FailureAsync();

            Assert.Contains("a message stopped after 0 of 8 bytes", e.Message, StringComparison.Ordinal);
        }
    }

    private static byte[] Header(VhostUserRequest request, uint size)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)request);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), size);
        return header;
    }

    private static byte[] ConfigRequest(uint offset, uint size)
    {
        var payload = new byte[12 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), size);
        return payload;
    }
}
