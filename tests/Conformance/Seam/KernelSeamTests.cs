using Conformance.Support;
using Vmci;
using Vmci.Vsock;

namespace Conformance.Seam;

/// <summary>
/// The seam suite on the real Linux kernel (AF_VSOCK). Runs only in the guest of eng/guest-run.sh, where it is root
/// with vsock_loopback (CID 1); everywhere else every test skips, and AF_VSOCK is never touched.
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

    /// <summary>The guest runs as root: CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
