using Vmci;
using Vmci.Vsock;

namespace Conformance.Support;

/// <summary>
/// Whether this process runs where kernel AF_VSOCK may be used: inside the guest of eng/guest-run.sh (or a VMware VM
/// through eng/guest/run-bundle.sh), which sets VMCI_BACKEND=vsock. Elsewhere kernel tests skip and never touch AF_VSOCK.
/// What the guest's kernel offers is read, never assumed: a guest may have only vsock_loopback (local CID 1), only a
/// guest-to-host transport (VMware's vmci, or virtio-vsock on a simulator fabric: its own CID, no loopback), or both.
/// </summary>
public static class KernelGuest
{
    /// <summary>The skip reason outside the guest.</summary>
    public const string SkipReason = "kernel vsock runs only in the QEMU guest (VMCI_BACKEND=vsock); run eng/guest-run.sh";

    private static readonly Lazy<uint?> Loopback = new(ProbeLoopbackCid);

    /// <summary>True inside the guest.</summary>
    public static bool Active => Environment.GetEnvironmentVariable("VMCI_BACKEND") == "vsock";

    /// <summary>The guest-to-host transport that is loaded (vmci, virtio, Hyper-V), or null: only vsock_loopback.</summary>
    public static string? GuestToHostTransport =>
        new[] { "vmw_vsock_vmci_transport", "vmw_vsock_virtio_transport", "hv_sock" }.FirstOrDefault(m => Directory.Exists($"/sys/module/{m}"));

    /// <summary>True when vsock_loopback is loaded.</summary>
    public static bool HasLoopbackTransport => Directory.Exists("/sys/module/vsock_loopback");

    /// <summary>Skips the current test outside the guest.</summary>
    public static void Require()
    {
        if (!Active)
            Assert.Skip(SkipReason);
    }

    /// <summary>
    /// The CID a process connects to in order to reach its own listeners, found by trying: its own CID (vsock_loopback,
    /// VMware's vmci transport), else CID 1 (a virtio-vsock guest without vsock_loopback: virtio refuses its own CID
    /// with ENODEV, and CID 1 goes to the device, which loops back). Skips the test when neither reaches a listener.
    /// </summary>
    public static uint RequireLoopbackCid()
    {
        Require();
        var cid = Loopback.Value;
        if (cid is null)
            Assert.Skip("neither this guest's own CID nor CID 1 reaches its own listeners");
        return cid.Value;
    }

    private static uint? ProbeLoopbackCid()
    {
        var network = new VsockNetwork();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var listener = network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        // One accept for every try: a refused try leaves it waiting for the next.
        var accept = listener.AcceptAsync(deadline.Token).AsTask();
        try
        {
            foreach (var cid in new[] { network.GetLocalCid(), VmciCid.Local }.Distinct())
            {
                try
                {
                    using var client = network.ConnectAsync(new VsockAddress(cid, listener.LocalAddress.Port), null, deadline.Token).AsTask().GetAwaiter().GetResult();
                    using var server = accept.GetAwaiter().GetResult();
                    return cid;
                }
                catch (VmciException)
                {
                    // Not this one (ENODEV: the transport cannot deliver to it; ECONNRESET, ENETUNREACH: refused).
                }
            }
            return null;
        }
        finally
        {
            deadline.Cancel();
            _ = accept.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed: cancelled or already done
        }
    }
}
