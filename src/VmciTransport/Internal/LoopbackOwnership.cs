using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vmci.Transport.Internal.Linux;

namespace Vmci.Transport.Internal;

/// <summary>
/// Decides whether a connection accepted on a relay's 127.0.0.1 listener comes from this very process. Linux: one
/// NETLINK_SOCK_DIAG lookup of the peer socket by its exact address pair gives its owner uid and inode (no parsing of
/// <c>/proc/net/tcp</c>); a socket of another uid is refused at once; for this uid the inode must be one of this
/// process's descriptors (one fstat per descriptor, highest first — the peer is a socket NetMQ has just made). Anything
/// else — another process, a vanished peer, netlink unavailable — is refused. Other systems: no check exists (see
/// docs/transport.md).
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
        var found = SockDiag.Lookup(peer, new IPEndPoint(peer.Address, listenerPort));
        return found is { } socket && socket.Uid == SockDiag.EffectiveUid && ProcessOwns(socket.Inode);
    }

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    private static bool ProcessOwns(ulong inode)
    {
        List<int> fds;
        try
        {
            fds = [.. Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(p => int.Parse(Path.GetFileName(p), NumberStyles.None, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
        fds.Sort();
        var stat = new byte[256];
        for (var i = fds.Count - 1; i >= 0; i--)
        {
            if (SockDiag.SocketInodeOf(fds[i], stat) == inode)
                return true;
        }
        return false;
    }
}
