using Conformance.Support;
using Vmci;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>
/// The NetMQ suite on the real Linux kernel (AF_VSOCK). Runs only in the guests of eng/guest-run.sh (root; vsock_loopback
/// with local CID 1, or a simulator fabric's virtio-vsock device) and in the VMware VMs of vagrant/; everywhere else every
/// test skips with the reason and AF_VSOCK is never touched.
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

    /// <summary>The kernel's local CID: 1 in the QEMU guest with vsock_loopback only, the guest's CID on a fabric or in a VMware VM.</summary>
    protected override uint LocalCid => Network.GetLocalCid();

    /// <summary>Found by trying (<see cref="KernelGuest.RequireLoopbackCid"/>): the local CID, or 1 in a virtio-vsock guest without vsock_loopback.</summary>
    protected override uint LoopbackCid => KernelGuest.RequireLoopbackCid();

    /// <summary>The guest runs as root: CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
