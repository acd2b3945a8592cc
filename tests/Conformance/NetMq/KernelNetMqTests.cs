using Conformance.Support;
using Vmci;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>
/// The NetMQ suite on the real Linux kernel (AF_VSOCK). Runs only in the guest of eng/guest-run.sh (root,
/// vsock_loopback: local CID 1); everywhere else every test skips with the reason and AF_VSOCK is never touched.
/// </summary>
[Trait("Backend", "vsock")]
public sealed class KernelNetMqTests : NetMqConformance
{
    /// <inheritdoc />
    protected override IVsockNetwork CreateNetwork()
    {
        KernelGuest.Require();
        return VmciNetwork.Kernel;
    }

    /// <summary>vsock_loopback only: the local CID is VMADDR_CID_LOCAL (1).</summary>
    protected override uint LocalCid => VmciCid.Local;

    /// <summary>The guest runs as root: CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
