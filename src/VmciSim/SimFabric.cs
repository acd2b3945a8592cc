using System.Globalization;
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

    private SimFabric(string directory)
    {
        Directory = directory;
        _layout = new FabricLayout(directory);
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
            try
            {
                return File.ReadAllText(_layout.TopologyFile).Trim() switch
                {
                    "vmware" => SimTopology.Vmware,
                    _ => SimTopology.Open,
                };
            }
            catch (FileNotFoundException)
            {
                return SimTopology.Open;
            }
        }
        set
        {
            var text = value switch
            {
                SimTopology.Open => "open\n",
                SimTopology.Vmware => "vmware\n",
                _ => throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, Directory, $"unknown topology {(int)value}"),
            };
            // Write-then-rename: readers in other processes see the old or the new file, never half of one.
            var temporary = _layout.TopologyFile + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            File.WriteAllText(temporary, text);
            File.Move(temporary, _layout.TopologyFile, overwrite: true);
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
    /// EACCES when the default directory in the shared temp directory is open to other users.</exception>
    public static SimFabric Open(string? directory = null)
    {
        var path = Path.GetFullPath(directory is { Length: > 0 } ? directory : SimSettings.FromEnvironment().FabricDirectory);
        var isDefault = path == Path.GetFullPath(TempDirectoryDefault());
        var fabric = new SimFabric(path);
        fabric._layout.CheckSocketPathLength();
        try
        {
            UnixPlatform.CreatePrivateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw VmciError.Create(Errno.EACCES, VmciOperation.OpenFabric, path, $"cannot create the fabric directory: {e.Message}", e);
        }
        if (isDefault && UnixPlatform.IsShared(path))
            throw VmciError.Create(Errno.EACCES, VmciOperation.OpenFabric, path,
                "the default fabric in the shared temp directory must be private to its owner (mode 0700); fix its mode or set VMCI_SIM_FABRIC");
        return fabric;
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
        Path.Combine(Path.GetTempPath(), "vmci-sim-" + (UnixPlatform.UserId?.ToString(CultureInfo.InvariantCulture) ?? Environment.UserName));

    /// <summary>
    /// Joins the fabric as machine <paramref name="cid"/> (creating its directory): the returned network's local
    /// CID is <paramref name="cid"/>. One process may join several CIDs; several processes may join the same CID
    /// (they then share its port space, like processes of one VM).
    /// </summary>
    /// <exception cref="VmciException">EINVAL for CID 0 (hypervisor), 1 (loopback) and 0xFFFFFFFF (any): no machine has them.</exception>
    public SimNetwork Join(uint cid)
    {
        if (cid is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any)
            throw VmciError.Create(Errno.EINVAL, VmciOperation.JoinFabric, Directory, $"CID {cid}: {SimSettings.MachineCidRule}");
        UnixPlatform.CreatePrivateDirectory(_layout.MachineDirectory(cid));
        return new SimNetwork(this, cid);
    }

    /// <summary>The machines of the fabric and their listeners, read from disk; stale listeners are probed and marked.</summary>
    public IReadOnlyList<SimMachineInfo> Snapshot()
    {
        var machines = new List<SimMachineInfo>();
        foreach (var machineDir in System.IO.Directory.EnumerateDirectories(Directory))
        {
            if (!FabricLayout.TryParseNumber(Path.GetFileName(machineDir), out var cid))
                continue;
            var listeners = new List<SimListenerInfo>();
            foreach (var file in System.IO.Directory.EnumerateFiles(machineDir))
            {
                if (!FabricLayout.TryParseNumber(Path.GetFileName(file), out var port))
                    continue;
                var bound = SocketFiles.ReadBound(_layout.BoundFile(cid, port));
                var stale = SocketFiles.ProbeFile(file) != SocketFiles.Probe.Live;
                listeners.Add(new SimListenerInfo(new VsockAddress(bound?.Cid ?? VmciCid.Any, port), bound?.ProcessId ?? 0, stale));
            }
            listeners.Sort((a, b) => a.Address.Port.CompareTo(b.Address.Port));
            machines.Add(new SimMachineInfo(cid, listeners));
        }
        machines.Sort((a, b) => a.Cid.CompareTo(b.Cid));
        return machines;
    }
}
