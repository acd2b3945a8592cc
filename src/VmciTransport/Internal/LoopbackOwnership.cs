using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// Decides whether a connection accepted on a relay's 127.0.0.1 listener comes from this very process.
/// Linux: the peer's port is looked up in <c>/proc/net/tcp</c> (and <c>tcp6</c>, for dual-stack sockets) as the
/// local end of an established connection to the listener's port; that row's socket inode must be one of this
/// process's descriptors (<c>/proc/self/fd/*</c> → <c>socket:[inode]</c>). Anything else — another process, a
/// vanished peer, an unreadable /proc — is refused. Other systems: no check exists (see docs/transport.md).
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
        var inode = FindInode(peer.Port, listenerPort);
        return inode is { } i && ProcessOwnsSocket(i);
    }

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    /// <summary>The inode of the established socket whose local port is <paramref name="localPort"/> and remote port <paramref name="remotePort"/>.</summary>
    internal static ulong? FindInode(int localPort, int remotePort)
    {
        foreach (var table in (ReadOnlySpan<string>)["/proc/net/tcp", "/proc/net/tcp6"])
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(table);
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var line in lines.AsSpan(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != "01")
                    continue;
                if (Port(fields[1]) == localPort && Port(fields[2]) == remotePort && IsLoopbackHex(fields[1]) && IsLoopbackHex(fields[2])
                    && ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                    return inode;
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

    private static bool ProcessOwnsSocket(ulong inode)
    {
        var target = $"socket:[{inode.ToString(CultureInfo.InvariantCulture)}]";
        try
        {
            foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget == target)
                        return true;
                }
                catch (IOException)
                {
                    // The descriptor was closed while we looked; not ours to worry about.
                }
            }
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        return false;
    }
}
