namespace Vmci.Sim;

/// <summary>One simulated machine of a fabric, as <see cref="SimFabric.Snapshot"/> found it on disk.</summary>
/// <param name="Cid">The machine's context ID.</param>
/// <param name="Listeners">The listeners bound in the machine's port space, by port.</param>
public sealed record SimMachineInfo(uint Cid, IReadOnlyList<SimListenerInfo> Listeners);

/// <summary>One listener socket file of a simulated machine.</summary>
/// <param name="Address">The bound address as getsockname reports it (CID any, the machine's CID or 1).</param>
/// <param name="ProcessId">The process that bound it (in its own PID namespace), or 0 when unknown.</param>
/// <param name="IsStale">True when nobody answers on the socket file any more (its process died); the next bind of the port reclaims it.</param>
public sealed record SimListenerInfo(VsockAddress Address, int ProcessId, bool IsStale);
