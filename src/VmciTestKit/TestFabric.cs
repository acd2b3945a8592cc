using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using Vmci.Sim;

namespace Vmci.TestKit;

/// <summary>
/// A simulator fabric of its own for one test: a fresh, private (mode 0700), short directory under the temporary
/// directory (socket paths must fit sun_path's 107 bytes), deleted with everything in it on dispose. Machines are
/// simulated VMs by CID; every process given <see cref="Directory"/> as <c>VMCI_SIM_FABRIC</c> shares them.
/// </summary>
/// <example>
/// <code>
/// using var fabric = new FabricBuilder().WithTopology(SimTopology.Vmware).WithMachines(3, 4).Build();
/// using var listener = fabric.Machine(3).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
/// using var connection = await fabric.Host.ConnectAsync(new VsockAddress(3, listener.LocalAddress.Port));
/// </code>
/// </example>
public sealed class TestFabric : IDisposable
{
    private readonly ConcurrentDictionary<uint, SimNetwork> _machines = new();

    /// <summary>Creates an empty fabric with the defaults of <see cref="FabricBuilder"/> (open topology, no machines).</summary>
    public TestFabric()
    {
        // mkdtemp(3): a new directory, mode 0700, owned by the current user; short, unlike a per-test GUID path.
        Directory = System.IO.Directory.CreateTempSubdirectory("vmci-").FullName;
        try
        {
            Fabric = SimFabric.Open(Directory);
        }
        catch
        {
            System.IO.Directory.Delete(Directory, recursive: true);
            throw;
        }
    }

    /// <summary>The fabric directory (absolute): <c>VMCI_SIM_FABRIC</c> for peer processes and containers.</summary>
    public string Directory { get; }

    /// <summary>The simulator's fabric: topology, faults, snapshot, other <see cref="SimFabric.Join"/>s.</summary>
    public SimFabric Fabric { get; }

    /// <summary>The fabric's faults (<see cref="SimFabric.Faults"/>): latency, partition, reset, … across every process sharing it.</summary>
    public SimFaults Faults => Fabric.Faults;

    /// <summary>The host, CID 2 (<see cref="VmciCid.Host"/>).</summary>
    public SimNetwork Host => Machine(VmciCid.Host);

    /// <summary>The simulated machine with context ID <paramref name="cid"/>, joined on first use; the same object after that.</summary>
    /// <param name="cid">Any CID except 0, 1 and 0xFFFFFFFF.</param>
    /// <returns>The machine's network (its local CID is <paramref name="cid"/>).</returns>
    /// <exception cref="VmciException">EINVAL for a reserved CID.</exception>
    public SimNetwork Machine(uint cid) => _machines.GetOrAdd(cid, Fabric.Join);

    /// <summary>Every file and directory in the fabric, relative to it, sorted (ordinal).</summary>
    /// <returns>The entries, e.g. <c>5</c>, <c>5/40001</c>, <c>faults.json</c>.</returns>
    public IReadOnlyList<string> Entries() =>
        [.. System.IO.Directory.EnumerateFileSystemEntries(Directory, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Directory, path)).Order(StringComparer.Ordinal)];

    /// <summary>The socket file of a listener of machine <paramref name="cid"/> on <paramref name="port"/> (see docs/simulator.md).</summary>
    /// <param name="cid">The machine.</param>
    /// <param name="port">The port.</param>
    /// <returns>Its absolute path.</returns>
    public string SocketPath(uint cid, uint port) =>
        Path.Combine(Directory, cid.ToString(CultureInfo.InvariantCulture), port.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// A plain Unix socket connected to the socket file of (<paramref name="cid"/>, <paramref name="port"/>), bypassing
    /// the simulator's handshake: to send a listener bad or partial handshakes.
    /// </summary>
    /// <param name="cid">The machine.</param>
    /// <param name="port">The listener's port.</param>
    /// <returns>The connected socket; dispose it.</returns>
    public Socket ConnectRaw(uint cid, uint port)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath(cid, port)));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Leaves a stale listener at (<paramref name="cid"/>, <paramref name="port"/>), as a process killed while listening
    /// does: a socket file that nobody listens on any more.
    /// </summary>
    /// <param name="cid">The machine (joined if it was not).</param>
    /// <param name="port">The port.</param>
    /// <returns>The socket file's path.</returns>
    public string LeaveStaleListener(uint cid, uint port)
    {
        Machine(cid);
        var path = SocketPath(cid, port);
        // .NET unlinks the path it bound when the socket is disposed: bind another name and rename it.
        var temporary = path + ".tmp";
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            socket.Listen(1);
            File.Move(temporary, path);
        }
        return path;
    }

    /// <summary>Clears the fabric's faults (other processes may still read them) and deletes the directory with everything in it.</summary>
    public void Dispose()
    {
        try
        {
            Fabric.Faults.Clear();
        }
        catch (Exception e) when (e is VmciException or IOException)
        {
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Already gone, or a peer process still writing into it as it dies: nothing of this test's is left to keep.
        }
    }
}
