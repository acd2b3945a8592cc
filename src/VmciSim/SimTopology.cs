namespace Vmci.Sim;

/// <summary>Which simulated machines may connect to which (SPEC §5, §6).</summary>
public enum SimTopology
{
    /// <summary>Every CID reaches every CID, as a host with several nested transports would allow. The default.</summary>
    Open,

    /// <summary>
    /// VMware's rule since vSphere 5.1 / Workstation 8: a guest (CID ≥ 3) reaches the host (CID 2) and itself only;
    /// a connection to another guest is refused by the transport's policy (ENETUNREACH). The host reaches every guest.
    /// </summary>
    Vmware,
}
