using System.Globalization;
using System.Text;
using Vmci.Sim.Internal;
using Vmci.Sim.Unix;

namespace Vmci.Sim;

/// <summary>
/// A fabric: a directory that holds simulated machines, one per CID, each with its own vsock port space.
/// Every process and container that shares the directory shares the fabric — the file system is the source of
/// truth, nothing is registered in memory — so no daemon, no root and no setup are needed.
/// </summary>
/// <remarks>See docs/simulator.md for the file layout, the protocol and the differences from the kernel.</remarks>
public sealed class SimFabric
{
    private readonly FabricLayout _layout;
    private SimFaults? _faults;

    private SimFabric(string directory, FabricAccess access)
    {
        Directory = directory;
        _layout = new FabricLayout(directory, access);
    }

    /// <summary>The fabric directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>
    /// Who may connect to whom, stored in the fabric (file <c>topology</c>) so that every process sharing it agrees;
    /// read from disk at each use. <remarks>Defaults to <see cref="SimTopology.Open"/>.</remarks>
    /// </summary>
    public SimTopology Topology
    {
        get
        {
            var errno = UnixFiles.ReadSmall(_layout.TopologyFile, 64, out var bytes);
            if (errno == Interop.ENOENT)
                return SimTopology.Open;
            if (errno != 0)
                throw FabricEntries.FileError(errno, VmciOperation.ChangeFabric, _layout.TopologyFile, 64);
            return Encoding.ASCII.GetString(bytes).Trim() switch
            {
                "vmware" => SimTopology.Vmware,
                _ => SimTopology.Open,
            };
        }
        set
        {
            var text = value switch
            {
                SimTopology.Open => "open\n",
                SimTopology.Vmware => "vmware\n",
                _ => throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, Directory, $"unknown topology {(int)value}"),
            };
            // A new file under a random name, renamed over the old one: readers in other processes see the old or the new
            // file, never half of one, and a link planted at the name is replaced, not followed.
            var errno = UnixFiles.WriteReplacing(_layout.TopologyFile, Encoding.ASCII.GetBytes(text), _layout.Access.FileMode);
            if (errno != 0)
                throw FabricEntries.FileError(errno, VmciOperation.ChangeFabric, _layout.TopologyFile, 0);
        }
    }

    /// <summary>The fabric's faults (latency, bandwidth, reset, partition, pause, refuse, CID change), shared through <c>faults.json</c>.</summary>
    public SimFaults Faults => _faults ??= new SimFaults(this);

    internal FabricLayout Layout => _layout;

    internal FaultState FaultState => FaultState.For(Directory);

    /// <summary>The ephemeral port counter of this fabric object (one per machine in the kernel).</summary>
    internal PortAllocator Ports { get; } = PortAllocator.CreateRandom();

    /// <summary>Whether binds of ports ≤ 1023 are allowed; the kernel's CAP_NET_BIND_SERVICE rule unless a test overrides it.</summary>
    internal Func<bool> CanBindPrivilegedPorts { get; set; } = UnixPlatform.CanBindPrivilegedPorts;

    /// <summary>
    /// Opens (creating it, mode 0700) the fabric in <paramref name="directory"/>; by default
    /// <c>$VMCI_SIM_FABRIC</c>, else <c>$XDG_RUNTIME_DIR/vmci-sim</c>, else <c>&lt;temp&gt;/vmci-sim-&lt;uid&gt;</c>.
    /// </summary>
    /// <param name="directory">The fabric directory, or null for the default.</param>
    /// <exception cref="VmciException">EINVAL when socket paths under the directory would not fit sun_path;
    /// EACCES when the default directory is not a directory of the effective user with mode 0700 (lstat: a link is
    /// refused), or when a shared directory lets others write it without the sticky bit; ENOTDIR for a file.</exception>
    public static SimFabric Open(string? directory = null)
    {
        var named = directory is { Length: > 0 } ? directory : SimSettings.FromEnvironment().Fabric;
        var path = Path.GetFullPath(named is { Length: > 0 } ? named : DefaultDirectory());
        new FabricLayout(path, FabricAccess.Private).CheckSocketPathLength();
        return new SimFabric(path, FabricAccess.Open(path, isDefault: named is not { Length: > 0 }));
    }

    /// <summary>
    /// The directory used when neither a directory nor <c>VMCI_SIM_FABRIC</c> names one: <c>$XDG_RUNTIME_DIR/vmci-sim</c>,
    /// else <c>&lt;temp&gt;/vmci-sim-&lt;uid&gt;</c>.
    /// </summary>
    public static string DefaultDirectory() =>
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime
            ? Path.Combine(runtime, "vmci-sim")
            : TempDirectoryDefault();

    private static string TempDirectoryDefault() =>
        Path.Combine(Path.GetTempPath(), "vmci-sim-" + (UnixFiles.EffectiveUserId != UnixFiles.UnknownUid
            ? UnixFiles.EffectiveUserId.ToString(CultureInfo.InvariantCulture) : Environment.UserName));

    /// <summary>
    /// Joins the fabric as machine <paramref name="cid"/> (creating its directory): the returned network's local
    /// CID is <paramref name="cid"/>. One process may join several CIDs; several processes may join the same CID
    /// (they then share its port space, like processes of one VM).
    /// </summary>
    /// <exception cref="VmciException">EINVAL for CID 0 (hypervisor), 1 (loopback) and 0xFFFFFFFF (any): no machine has them;
    /// ELOOP when the machine's directory is a symbolic link, EACCES when it belongs to another user.</exception>
    public SimNetwork Join(uint cid)
    {
        if (cid is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any)
            throw VmciError.Create(Errno.EINVAL, VmciOperation.JoinFabric, Directory, $"CID {cid}: {SimSettings.MachineCidRule}");
        _layout.Access.EnsureMachine(_layout.MachineDirectory(cid), cid, VmciOperation.JoinFabric);
        return new SimNetwork(this, cid);
    }

    /// <summary>
    /// The machines of the fabric and their listeners, read from disk; stale listeners are probed and marked. Entries
    /// that are links, and machine directories of other users that cannot be read, are left out (never followed).
    /// </summary>
    /// <exception cref="VmciException">The fabric directory cannot be read (EACCES, ENOENT).</exception>
    public IReadOnlyList<SimMachineInfo> Snapshot()
    {
        var machines = new List<SimMachineInfo>();
        foreach (var (cid, machineDir) in FabricEntries.Machines(_layout))
        {
            var listeners = new List<SimListenerInfo>();
            foreach (var (port, file) in FabricEntries.Ports(machineDir))
            {
                var bound = SocketFiles.ReadBound(file + ".bound");
                var stale = SocketFiles.ProbeFile(file) != SocketFiles.Probe.Live;
                listeners.Add(new SimListenerInfo(new VsockAddress(bound?.Cid ?? VmciCid.Any, port), bound?.ProcessId ?? 0, stale));
            }
            listeners.Sort((a, b) => a.Address.Port.CompareTo(b.Address.Port));
            machines.Add(new SimMachineInfo(cid, listeners));
        }
        machines.Sort((a, b) => a.Cid.CompareTo(b.Cid));
        return machines;
    }

    /// <summary>
    /// Removes what dead participants left: socket files nobody listens on any more (a killed listener's; probed,
    /// under the machine's lock), their <c>.bound</c> files, orphaned <c>.bound</c> files and temporary entries older
    /// than a minute. Never follows a link; touches only machine directories of the caller's own user.
    /// </summary>
    /// <returns>What was removed, relative to the fabric directory (<c>5/40001</c>, <c>5/40001.bound</c>, …).</returns>
    /// <exception cref="VmciException">The fabric directory cannot be read (EACCES, ENOENT).</exception>
    public IReadOnlyList<string> Prune()
    {
        var removed = new List<string>();
        foreach (var (cid, machineDir) in FabricEntries.Machines(_layout))
        {
            if (FabricAccess.CheckMachine(machineDir, cid) is null)
                removed.AddRange(StalePruner.Prune(machineDir, probeAll: true).Select(p => System.IO.Path.GetRelativePath(Directory, p)));
        }
        return removed;
    }
}
