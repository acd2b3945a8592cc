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

    [Fact(DisplayName = "§5 connect to a guest CID (3) without a host-to-guest transport → ENODEV")]
    [Trait("Spec", "§5")]
    public async Task Connect_CidWithoutTransport_ThrowsENODEV()
    {
        KernelGuest.Require();
        if (Directory.Exists("/sys/module/vmw_vsock_vmci_transport") || Directory.Exists("/sys/module/vmw_vsock_virtio_transport") ||
            Directory.Exists("/sys/module/hv_sock"))
            Assert.Skip("this guest has another vsock transport; ENODEV is observable only with vsock_loopback alone");
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        await VmciAssert.ThrowsAsync(Errno.ENODEV,
            () => new VsockNetwork().ConnectAsync(new VsockAddress(VmciCid.FirstGuest, 1234), null, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 loopback only: CID 2 (host) is served by the local transport → no listener, ECONNRESET")]
    [Trait("Spec", "§5")]
    public async Task Connect_HostCidLoopbackOnly_ReachesLocalTransport()
    {
        KernelGuest.Require();
        if (Directory.Exists("/sys/module/vmw_vsock_vmci_transport") || Directory.Exists("/sys/module/vmw_vsock_virtio_transport"))
            Assert.Skip("this guest has a guest-to-host transport: CID 2 is the real host");
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET,
            () => new VsockNetwork().ConnectAsync(new VsockAddress(VmciCid.Host, 1234), null, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 the local CID of a loopback-only guest is 1")]
    [Trait("Spec", "§5")]
    public void GetLocalCid_LoopbackOnly_IsOne()
    {
        KernelGuest.Require();
        if (Directory.Exists("/sys/module/vmw_vsock_vmci_transport") || Directory.Exists("/sys/module/vmw_vsock_virtio_transport"))
            Assert.Skip("this guest has a guest-to-host transport, so its CID is not 1");
        Assert.Equal(VmciCid.Local, new VsockNetwork().GetLocalCid());
    }
}
