using Vmci;
using Vmci.TestKit;

namespace Conformance.Seam;

/// <summary>
/// The seam suite on the simulator: every assertion the kernel passes, VmciSim must pass too. Runs everywhere,
/// on a temporary fabric of its own (CID 2, the host), so it also runs next to the kernel leaf in the guest.
/// </summary>
[Trait("Backend", "sim")]
public sealed class SimSeamTests : SeamConformance
{
    /// <inheritdoc />
    protected override IVsockNetwork CreateNetwork()
    {
        return Own(new TestFabric()).Host;
    }

    /// <summary>The simulator follows the kernel rule: euid 0 stands for CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
