using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// The on-disk layout of a fabric — the only source of truth shared by every process and container:
/// <code>
/// &lt;fabric&gt;/topology                         "open" or "vmware" (absent: open)
/// &lt;fabric&gt;/&lt;cid&gt;/                           one directory per simulated machine (0700)
/// &lt;fabric&gt;/&lt;cid&gt;/&lt;port&gt;                     the listener's Unix domain socket
/// &lt;fabric&gt;/&lt;cid&gt;/&lt;port&gt;.bound               "&lt;bound cid&gt; &lt;pid&gt;" for listings
/// &lt;fabric&gt;/&lt;cid&gt;/gateway                     a vhost-user device's socket: it answers for every port of a real guest
/// &lt;fabric&gt;/&lt;cid&gt;/gateway.bound               "&lt;cid&gt; &lt;pid&gt;" of the device process
/// &lt;fabric&gt;/&lt;cid&gt;/.b…, .c…, .t…                 temporary: a socket before it is renamed into place, a
///                                    connector's bound end during its handshake, a file before it is renamed into place
/// </code>
/// Nothing in a fabric is followed when it is a link (docs/security.md); <see cref="Access"/> holds the rules.
/// </summary>
internal sealed class FabricLayout
{
    /// <summary>The longest name under a fabric: "/4294967295/4294967295" (22 bytes) — a socket path is at most this much longer.</summary>
    private const int LongestSocketSuffix = 22;

    public FabricLayout(string root, FabricAccess access)
    {
        Root = root;
        Access = access;
    }

    public string Root { get; }

    /// <summary>Who may do what in this fabric, and the modes of what the simulator creates in it.</summary>
    public FabricAccess Access { get; }

    public string TopologyFile => Path.Combine(Root, "topology");

    /// <summary>The fabric's own rule: every socket path must fit sun_path. Checked once, when the fabric opens.</summary>
    public void CheckSocketPathLength()
    {
        var longest = Path.Combine(Root, uint.MaxValue.ToString(CultureInfo.InvariantCulture), uint.MaxValue.ToString(CultureInfo.InvariantCulture));
        var bytes = Encoding.UTF8.GetByteCount(longest);
        if (bytes > UnixPlatform.MaxSocketPathBytes)
            throw VmciError.Create(Errno.EINVAL, VmciOperation.OpenFabric, Root,
                $"socket paths such as '{longest}' would be {bytes} bytes, more than sun_path holds ({UnixPlatform.MaxSocketPathBytes}); "
                + $"use a fabric directory of at most {UnixPlatform.MaxSocketPathBytes - LongestSocketSuffix} bytes (VMCI_SIM_FABRIC)");
    }

    public string MachineDirectory(uint cid) => Path.Combine(Root, cid.ToString(CultureInfo.InvariantCulture));

    public string SocketPath(uint machine, uint port) => Path.Combine(MachineDirectory(machine), port.ToString(CultureInfo.InvariantCulture));

    public string BoundFile(uint machine, uint port) => SocketPath(machine, port) + ".bound";

    /// <summary>True for a temporary entry (<c>.b…</c>, <c>.c…</c>, <c>.t…</c>, see <see cref="Unix.UnixFiles.TemporaryName"/>).</summary>
    public static bool IsTemporaryName(string name) => name.Length == 10 && name[0] == '.' && name[1] is 'b' or 'c' or 't';

    public UnixDomainSocketEndPoint SocketEndPoint(uint machine, uint port) => new(SocketPath(machine, port));

    /// <summary>The socket of the vhost-user device that serves <paramref name="machine"/> (a real guest), if any.</summary>
    public string GatewayPath(uint machine) => Path.Combine(MachineDirectory(machine), "gateway");

    public UnixDomainSocketEndPoint GatewayEndPoint(uint machine) => new(GatewayPath(machine));

    public bool MachineExists(uint cid) => Directory.Exists(MachineDirectory(cid));

    /// <summary>
    /// Whether the connector at the other end of <paramref name="client"/> holds the CID it claims (<paramref name="source"/>):
    /// its end of the Unix socket is bound in that machine's directory (getpeername), and that directory and that socket
    /// belong to the connecting user (SO_PEERCRED, lstat — the directory is a real directory, not a link). Only the last
    /// two components of the peer's name are used: a container may see the fabric at another path. Null when it does,
    /// EPERM otherwise; where the OS cannot tell (not Linux), unchecked. Listeners and a device's gateway both ask this.
    /// </summary>
    public Errno? CheckConnector(Socket client, uint source)
    {
        if (!UnixFiles.IsStrict)
            return null;
        if (UnixSockets.PeerPath(client) is not { } bound || UnixSockets.PeerUid(client) is not { } uid)
            return Errno.EPERM; // unbound (a raw connector) or abstract: it proves nothing
        var name = Path.GetFileName(bound);
        var claimed = source.ToString(CultureInfo.InvariantCulture);
        if (name.Length == 0 || Path.GetFileName(Path.GetDirectoryName(bound)) != claimed)
            return Errno.EPERM; // bound in another machine's directory than the CID it claims
        var directory = MachineDirectory(source);
        if (UnixFiles.TryStat(directory, out var machine) != 0 || !machine.IsDirectory || machine.Uid != uid)
            return Errno.EPERM; // no such machine, a link, or another user's machine
        if (UnixFiles.TryStat(Path.Combine(directory, name), out var end) != 0 || !end.IsSocket || end.Uid != uid)
            return Errno.EPERM; // its socket is not in that directory (it lives elsewhere under the same name)
        return null;
    }

    /// <summary>Parses a machine directory name (a decimal CID), false for anything else.</summary>
    public static bool TryParseNumber(string name, out uint value) =>
        uint.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out value)
        && name == value.ToString(CultureInfo.InvariantCulture);
}
