using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.VhostUser.Internal;

namespace VmciSim.Tests.VhostUser;

/// <summary>What a guest kernel does with its connections, in test-sized steps.</summary>
[SupportedOSPlatform("linux")]
internal static class GuestSide
{
    /// <summary>REQUEST from <paramref name="port"/> to <paramref name="remote"/>; returns the RESPONSE.</summary>
    public static async Task<VsockHeader> ConnectAsync(this FakeGuest guest, uint port, VsockAddress remote)
    {
        guest.Send(VsockOp.Request, port, remote);
        return (await guest.ExpectAsync(VsockOp.Response)).Header;
    }

    /// <summary>
    /// REQUEST from <paramref name="port"/> to <paramref name="remotePort"/> of the guest itself, through CID 1 (loopback);
    /// returns the REQUEST the guest's listening side then receives.
    /// </summary>
    public static async Task<VsockHeader> RequestItselfAsync(this FakeGuest guest, uint port, uint remotePort)
    {
        guest.Send(VsockOp.Request, port, new VsockAddress(VmciCid.Local, remotePort));
        return (await guest.ExpectAsync(VsockOp.Request)).Header;
    }

    /// <summary>
    /// Receives RW packets until <paramref name="count"/> payload bytes arrived (credit updates in between are skipped).
    /// With <paramref name="credit"/> (the connection's port and peer) it announces what it consumed every 64 KiB, as a
    /// reading application's kernel does; without, the whole read must fit the guest's buffer.
    /// </summary>
    public static async Task<byte[]> ReadAsync(this FakeGuest guest, int count, int maxPacket = 4096, (uint Port, VsockAddress Peer)? credit = null)
    {
        var data = new List<byte>();
        var announced = 0;
        while (data.Count < count)
        {
            if (credit is { } c && data.Count - announced >= 64 * 1024)
            {
                announced = data.Count;
                guest.Send(VsockOp.CreditUpdate, c.Port, c.Peer, forwardCount: (uint)announced);
            }
            var (header, payload) = await guest.ReceiveAsync();
            if (header.Op == VsockOp.CreditUpdate)
                continue;
            Assert.True(header.Op == VsockOp.ReadWrite, $"expected RW, got {header}");
            Assert.InRange(payload.Length, 1, maxPacket);
            data.AddRange(payload);
        }
        Assert.Equal(count, data.Count);
        return [.. data];
    }

    /// <summary>Sends <paramref name="data"/> as RW packets of at most <paramref name="packet"/> bytes, header and payload in separate descriptors.</summary>
    public static void Write(this FakeGuest guest, uint port, VsockAddress remote, ReadOnlySpan<byte> data, int packet = 16384)
    {
        while (!data.IsEmpty)
        {
            var n = Math.Min(packet, data.Length);
            guest.Send(guest.Packet(VsockOp.ReadWrite, port, remote, length: (uint)n), data[..n], split: true);
            data = data[n..];
        }
    }

    /// <summary>
    /// Sends <paramref name="data"/>, then SHUTDOWN with <paramref name="flags"/> (1: receive, 2: send, 3: both), as a
    /// guest's shutdown(2) after a write.
    /// </summary>
    public static void WriteThenShutdown(this FakeGuest guest, uint port, VsockAddress remote, ReadOnlySpan<byte> data, uint flags)
    {
        guest.Write(port, remote, data);
        guest.Send(VsockOp.Shutdown, port, remote, flags: flags);
    }

    /// <summary>
    /// Sends <paramref name="data"/> within the device's credit, as a guest kernel does: at most buf_alloc bytes beyond
    /// the fwd_cnt the device last reported, waiting for its CREDIT_UPDATE packets (nothing else may arrive meanwhile).
    /// </summary>
    public static async Task WriteWithinCreditAsync(this FakeGuest guest, uint port, VsockAddress remote, byte[] data, uint bufferAllocation, int packet = 65536)
    {
        uint forwarded = 0;
        var sent = 0;
        while (sent < data.Length)
        {
            var n = Math.Min(packet, data.Length - sent);
            if ((uint)sent - forwarded + (uint)n > bufferAllocation)
            {
                var (update, _) = await guest.ExpectAsync(VsockOp.CreditUpdate);
                forwarded = update.ForwardCount;
                continue;
            }
            guest.Write(port, remote, data.AsSpan(sent, n), packet);
            sent += n;
        }
    }

    public static byte[] Payload(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
