using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vmci.Transport.Internal.Linux;

namespace Vmci.Transport.Internal;

/// <summary>
/// Decides whether a connection accepted on a relay's 127.0.0.1 listener comes from this very process. Linux: one
/// NETLINK_SOCK_DIAG lookup of the peer socket by its exact address pair gives its owner uid and inode (no parsing of
/// <c>/proc/net/tcp</c>); a socket of another uid is refused at once; for this uid the inode must be one of this
/// process's descriptors (fstat downwards from the accepted descriptor — the peer is the socket NetMQ has just made, found
/// within a few calls). When the
/// kernel has no inet_diag (a module not loaded, as in the QEMU guest) the lookup falls back to <c>/proc/net/tcp</c>.
/// Anything else — another process, a vanished peer — is refused. Other systems: no check exists (see docs/transport.md).
/// </summary>
internal static class LoopbackOwnership
{
    /// <summary>True when the check is enforced on this OS.</summary>
    public static bool IsEnforced => OperatingSystem.IsLinux();

    /// <summary>True when <paramref name="accepted"/> (accepted on <paramref name="listenerPort"/>) belongs to this process.</summary>
    public static bool IsOwnConnection(Socket accepted, int listenerPort)
    {
        if (!IsEnforced)
            return true;
        if (accepted.RemoteEndPoint is not IPEndPoint peer || !IsLoopback(peer.Address))
            return false;
        var found = SockDiag.Lookup(peer, new IPEndPoint(peer.Address, listenerPort)) ?? FromProcNetTcp(peer.Port, listenerPort);
        return found is { } socket && socket.Uid == SockDiag.EffectiveUid && ProcessOwns(socket.Inode, (int)accepted.SafeHandle.DangerousGetHandle());
    }

    /// <summary>The uid and inode of the established loopback socket (local <paramref name="localPort"/>, remote <paramref name="remotePort"/>) from <c>/proc/net/tcp{,6}</c>.</summary>
    internal static (uint Uid, ulong Inode)? FromProcNetTcp(int localPort, int remotePort)
    {
        foreach (var table in (ReadOnlySpan<string>)["/proc/net/tcp", "/proc/net/tcp6"])
        {
            IEnumerable<string> lines;
            try
            {
                lines = File.ReadLines(table).Skip(1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var line in lines)
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != "01" || Port(fields[1]) != localPort || Port(fields[2]) != remotePort
                    || !IsLoopbackHex(fields[1]) || !IsLoopbackHex(fields[2]))
                    continue;
                if (uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                    && ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                    return (uid, inode);
            }
        }
        return null;
    }

    private static int Port(string hexAddress)
    {
        var colon = hexAddress.LastIndexOf(':');
        return colon >= 0 && int.TryParse(hexAddress.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port) ? port : -1;
    }

    // 127.0.0.1 in host (little-endian) order is 0100007F; as an IPv4-mapped IPv6 address it ends so too.
    private static bool IsLoopbackHex(string hexAddress) =>
        hexAddress.AsSpan(0, hexAddress.LastIndexOf(':')).EndsWith("0100007F", StringComparison.OrdinalIgnoreCase);

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    /// <summary>
    /// True when a descriptor of this process is the socket <paramref name="inode"/>. The peer is the socket NetMQ created
    /// just before connecting, so it took the lowest free descriptor then, usually just below the one the accept gave us
    /// (<paramref name="acceptedFd"/>): the scan goes down from there — a few fstat calls in practice — and only then looks
    /// at the descriptors above it.
    /// </summary>
    private static bool ProcessOwns(ulong inode, int acceptedFd)
    {
        var stat = new byte[256];
        for (var fd = acceptedFd - 1; fd >= 0; fd--)
        {
            if (SockDiag.SocketInodeOf(fd, stat) == inode)
                return true;
        }
        List<int> above;
        try
        {
            above = [.. Directory.EnumerateFileSystemEntries("/proc/self/fd")
                .Select(p => int.Parse(Path.GetFileName(p), NumberStyles.None, CultureInfo.InvariantCulture)).Where(fd => fd > acceptedFd)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
        return above.Any(fd => SockDiag.SocketInodeOf(fd, stat) == inode);
    }
}
