using Conformance.Support;
using Vmci;
using Vmci.Vsock;

namespace Conformance.Seam;

/// <summary>
/// The seam suite on the real Linux kernel (AF_VSOCK). Runs only in the guests of eng/guest-run.sh, where it is root
/// (vsock_loopback with CID 1, or a fabric's virtio-vsock device); everywhere else every test skips, and AF_VSOCK is never touched.
/// </summary>
[Trait("Backend", "vsock")]
public sealed class KernelSeamTests : SeamConformance
{
    /// <inheritdoc />
    protected override IVsockNetwork CreateNetwork()
    {
        KernelGuest.Require();
        return new VsockNetwork();
    }

    /// <summary>Found by trying (<see cref="KernelGuest.RequireLoopbackCid"/>): the local CID, or 1 in a virtio-vsock guest without vsock_loopback.</summary>
    protected override uint LoopbackCid => KernelGuest.RequireLoopbackCid();

    /// <summary>The guest runs as root: CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
