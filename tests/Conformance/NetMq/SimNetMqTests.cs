using Vmci;
using Vmci.TestKit;

namespace Conformance.NetMq;

/// <summary>
/// The NetMQ suite on the simulator, on a temporary fabric of its own joined as CID 2 (the host), so <c>@</c> is 2.
/// Runs everywhere, also next to the kernel leaf in the guest.
/// </summary>
[Trait("Backend", "sim")]
public sealed class SimNetMqTests : NetMqConformance
{
    /// <inheritdoc />
    protected override IVsockNetwork CreateNetwork() => Own(new TestFabric()).Host;

    /// <inheritdoc />
    protected override uint LocalCid => VmciCid.Host;

    /// <summary>The simulator follows the kernel rule: euid 0 stands for CAP_NET_BIND_SERVICE.</summary>
    protected override bool CanBindReservedPorts => Environment.UserName == "root";
}
