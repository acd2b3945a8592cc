using System.Globalization;
using Vmci.Sim.Internal;
using Vmci.Sim.Unix;

namespace Vmci.Sim;

/// <summary>
/// The faults of a fabric (<see cref="SimFabric.Faults"/>): added here, by <c>vmci sim fault</c> or by any process
/// sharing the fabric, stored in <c>&lt;fabric&gt;/faults.json</c> and applied by every participant within one poll
/// interval (100 ms; at once in the process that made the change). See docs/reliability.md for the fault model.
/// </summary>
public sealed class SimFaults
{
    private readonly SimFabric _fabric;
    private readonly FaultState _state;

    internal SimFaults(SimFabric fabric)
    {
        _fabric = fabric;
        _state = FaultState.For(fabric.Directory);
    }

    /// <summary>The path of the control file, <c>&lt;fabric&gt;/faults.json</c>.</summary>
    public string FilePath => _state.FilePath;

    /// <summary>The version of the control file (0: no faults file yet).</summary>
    /// <exception cref="VmciException">The file is not a faults file (a directory, a link, malformed JSON): EISDIR, ELOOP, EINVAL.</exception>
    public long Version => ReadStrict().Version;

    /// <summary>The active faults, read from the control file.</summary>
    /// <exception cref="VmciException">The file is not a faults file (a directory, a link, malformed JSON): EISDIR, ELOOP, EINVAL.</exception>
    public IReadOnlyList<SimFault> List() => ReadStrict().Faults;

    /// <summary>Reads the file itself, failing on a bad one (the participants' poll keeps the last good version instead).</summary>
    private FaultSet ReadStrict()
    {
        var set = FaultFile.Read(_state.FilePath);
        _state.Publish(set);
        return set;
    }

    /// <summary>Adds a fault; returns it with its <see cref="SimFault.Id"/> and <see cref="SimFault.AddedUtc"/>.</summary>
    /// <param name="fault">The fault.</param>
    /// <exception cref="VmciException">EINVAL for a meaningless fault (CID 0, 1 or any, negative figures, no rate);
    /// EADDRINUSE when a CID change's target machine exists.</exception>
    public SimFault Add(SimFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        Validate(fault);
        SimFault? added = null;
        var next = FaultFile.Update(_state.FilePath, _fabric.Layout.Access, current =>
        {
            added = fault with { Id = current.NextId, AddedUtc = DateTime.UtcNow };
            if (fault.Kind == SimFaultKind.CidChange)
                MoveMachine(fault.Cid, fault.ToCid);
            return [.. current.Faults, added];
        });
        _state.Publish(next);
        return added!;
    }

    /// <summary>
    /// Removes the faults of <paramref name="cid"/> (every CID when null), of one kind when <paramref name="kind"/>
    /// is given; returns how many. Clearing a CID change moves the machine back to its old CID.
    /// </summary>
    /// <param name="cid">The CID whose faults to remove, or null for all.</param>
    /// <param name="kind">Only this kind, or null for every kind.</param>
    public int Clear(uint? cid = null, SimFaultKind? kind = null)
    {
        var removed = 0;
        var next = FaultFile.Update(_state.FilePath, _fabric.Layout.Access, current =>
        {
            var keep = new List<SimFault>();
            foreach (var f in current.Faults)
            {
                if ((cid is null || f.Cid == cid || (f.Kind == SimFaultKind.CidChange && f.ToCid == cid)) && (kind is null || f.Kind == kind))
                {
                    removed++;
                    if (f.Kind == SimFaultKind.CidChange)
                        MoveMachine(f.ToCid, f.Cid);
                    continue;
                }
                keep.Add(f);
            }
            return keep;
        });
        _state.Publish(next);
        return removed;
    }

    /// <summary>Cuts <paramref name="cid"/> off from <paramref name="peer"/> (every peer when null).</summary>
    /// <param name="cid">The machine.</param>
    /// <param name="peer">The peer, or null for all.</param>
    public SimFault Partition(uint cid, uint? peer = null) => Add(new SimFault(SimFaultKind.Partition, cid) { Peer = peer });

    /// <summary>Heals every partition of <paramref name="cid"/>.</summary>
    /// <param name="cid">The machine.</param>
    public int Heal(uint cid) => Clear(cid, SimFaultKind.Partition);

    /// <summary>Suspends the VM <paramref name="cid"/>: its connections stall, nothing is lost.</summary>
    /// <param name="cid">The machine.</param>
    public SimFault Pause(uint cid) => Add(new SimFault(SimFaultKind.Pause, cid));

    /// <summary>Resumes the VM <paramref name="cid"/>.</summary>
    /// <param name="cid">The machine.</param>
    public int Resume(uint cid) => Clear(cid, SimFaultKind.Pause);

    /// <summary>Resets the live connections of <paramref name="cid"/> (with <paramref name="peer"/> only, when given).</summary>
    /// <param name="cid">The machine.</param>
    /// <param name="peer">The peer, or null for all.</param>
    public SimFault Reset(uint cid, uint? peer = null) => Add(new SimFault(SimFaultKind.Reset, cid) { Peer = peer });

    private static void Validate(SimFault f)
    {
        string? problem = null;
        if (f.Cid is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any)
            problem = $"CID {f.Cid} is not a machine (use 2 for the host, 3 or more for guests)";
        else if (f.Peer is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any)
            problem = $"peer CID {f.Peer} is not a machine";
        else if (f.Kind == SimFaultKind.Latency && (f.LatencyMilliseconds < 0 || f.JitterMilliseconds < 0 || f.JitterMilliseconds > f.LatencyMilliseconds))
            problem = "latency and jitter must be ≥ 0 with jitter ≤ latency";
        else if (f.Kind == SimFaultKind.Bandwidth && f.BytesPerSecond <= 0)
            problem = "the bandwidth cap must be > 0 bytes per second";
        else if (f.Kind == SimFaultKind.CidChange && (f.ToCid is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any || f.ToCid == f.Cid))
            problem = $"CID {f.Cid} cannot change to {f.ToCid}";
        if (problem is not null)
            throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, f.ToString(), problem);
    }

    private void MoveMachine(uint from, uint to)
    {
        var source = _fabric.Layout.MachineDirectory(from);
        var target = _fabric.Layout.MachineDirectory(to);
        if (UnixFiles.TryStat(source, out _) == Interop.ENOENT)
            return;
        if (FabricAccess.CheckMachine(source, from) is { } refusal)
            throw refusal(VmciOperation.ChangeFabric);
        // rename(2) without replacing: the listeners' socket files keep working under the new CID.
        var errno = UnixFiles.RenameNoReplace(source, target);
        if (errno == Interop.EEXIST)
            throw VmciError.Create(Errno.EADDRINUSE, VmciOperation.ChangeFabric, to.ToString(CultureInfo.InvariantCulture),
                $"machine {to} already exists in fabric {_fabric.Directory}");
        if (errno != 0)
            throw VmciError.FromErrno(errno, VmciOperation.ChangeFabric, source, $"cannot move machine {from} to {to}");
    }
}
