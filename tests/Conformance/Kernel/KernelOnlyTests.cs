using Conformance.Support;
using Vmci;
using Vmci.TestKit;
using Vmci.Vsock;

namespace Conformance.Kernel;

/// <summary>
/// Checks that only the real kernel can answer: the raw timeval of SO_VM_SOCKETS_CONNECT_TIMEOUT, the kernel's own
/// errno for bad option lengths, ENODEV for a CID without transport. Guest only (eng/guest-run.sh).
/// </summary>
[Trait("Backend", "vsock")]
public sealed class KernelOnlyTests
{
    [Fact(DisplayName = "§4 connect timeout is a struct timeval {s, µs}: 1500 ms = {1, 500000}")]
    [Trait("Spec", "§4")]
    public unsafe void ConnectTimeout_Timeval_RoundTrips()
    {
        KernelGuest.Require();
        using var listener = (VsockListener)new VsockNetwork().Listen(new VsockAddress(VmciCid.Any, VmciPort.Any),
            new VsockOptions { ConnectTimeout = TimeSpan.FromMilliseconds(1500) });
        var tv = default(RawVsock.Timeval);
        var size = (uint)sizeof(RawVsock.Timeval);
        Assert.Equal((0, 0, size), RawVsock.Get(listener.Handle, RawVsock.SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, size));
        Assert.Equal(1, tv.Seconds);
        Assert.Equal(500_000, tv.Microseconds);
    }

    [Fact(DisplayName = "§4 libzmq's timeval {0, ms*1000} at 1000 ms → ERANGE (the bug this project fixes)")]
    [Trait("Spec", "§4")]
    public unsafe void ConnectTimeout_LibzmqTimeval_IsRejectedWithERANGE()
    {
        KernelGuest.Require();
        using var socket = RawVsock.Socket();
        var tv = new RawVsock.Timeval { Seconds = 0, Microseconds = 1000 * 1000 };
        Assert.Equal((-1, (int)Errno.ERANGE), RawVsock.Set(socket, RawVsock.SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, (uint)sizeof(RawVsock.Timeval)));
    }

    [Fact(DisplayName = "§5 an option value shorter than u64 → EINVAL")]
    [Trait("Spec", "§5")]
    public unsafe void SetOption_ShortLength_ThrowsEINVAL()
    {
        KernelGuest.Require();
        using var socket = RawVsock.Socket();
        var value = 4096u;
        Assert.Equal((-1, (int)Errno.EINVAL), RawVsock.Set(socket, RawVsock.SO_VM_SOCKETS_BUFFER_SIZE, &value, sizeof(uint)));
    }

    [Fact(DisplayName = "§5 connect to a CID no transport delivers → ENODEV (loopback only: a guest CID; virtio only: its own CID)")]
    [Trait("Spec", "§5")]
    public async Task Connect_CidWithoutTransport_ThrowsENODEV()
    {
        KernelGuest.Require();
        var network = new VsockNetwork();
        // With only vsock_loopback no transport serves guest CIDs; with only virtio-vsock every CID goes to the device
        // except the guest's own, which virtio_transport_send_pkt refuses. Other transports deliver every CID.
        uint? cid = KernelGuest.GuestToHostTransport switch
        {
            null => VmciCid.FirstGuest,
            "vmw_vsock_virtio_transport" when !KernelGuest.HasLoopbackTransport => network.GetLocalCid(),
            _ => null,
        };
        if (cid is null)
            Assert.Skip($"{KernelGuest.GuestToHostTransport} (with vsock_loopback: {KernelGuest.HasLoopbackTransport}) delivers every CID: no ENODEV to observe");
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        await VmciAssert.ThrowsAsync(Errno.ENODEV,
            () => network.ConnectAsync(new VsockAddress(cid.Value, 1234), null, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 connect to the host (CID 2) where nobody listens → ECONNRESET (from the local transport or from the host)")]
    [Trait("Spec", "§5")]
    public async Task Connect_HostCidNobodyListening_ThrowsECONNRESET()
    {
        KernelGuest.Require();
        // Loopback only: CID 2 is served by the local transport; with a guest-to-host transport the host answers RST.
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET,
            () => new VsockNetwork().ConnectAsync(new VsockAddress(VmciCid.Host, 1234), null, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 the local CID: 1 with only vsock_loopback, the guest's CID (≥ 3) with a guest-to-host transport")]
    [Trait("Spec", "§5")]
    public void GetLocalCid_IsWhatTheTransportSays()
    {
        KernelGuest.Require();
        var cid = new VsockNetwork().GetLocalCid();
        if (KernelGuest.GuestToHostTransport is null)
            Assert.Equal(VmciCid.Local, cid);
        else
            Assert.InRange(cid, VmciCid.FirstGuest, VmciCid.Any - 1);
        if (Environment.GetEnvironmentVariable("VMCI_GUEST_CID") is { Length: > 0 } expected)
            Assert.Equal(expected, cid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
