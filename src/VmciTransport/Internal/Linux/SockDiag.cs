using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace Vmci.Transport.Internal.Linux;

/// <summary>
/// NETLINK_SOCK_DIAG, inet_diag: the kernel's own lookup of one TCP socket by its exact address pair (what <c>ss</c>
/// uses), one request and one answer instead of parsing <c>/proc/net/tcp</c>. Gives the socket's owner uid and inode.
/// Unprivileged. Plus the two helpers the ownership check needs: the effective uid and the inode behind a descriptor.
/// </summary>
internal static partial class SockDiag
{
    private const int AF_INET = 2;
    private const int AF_NETLINK = 16;
    private const int SOCK_DGRAM = 2;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int NETLINK_SOCK_DIAG = 4;
    private const ushort SOCK_DIAG_BY_FAMILY = 20;
    private const ushort NLM_F_REQUEST = 1;
    private const ushort NLMSG_ERROR = 2;
    private const byte IPPROTO_TCP = 6;
    private const int RequestBytes = 72;   // nlmsghdr (16) + inet_diag_req_v2 (56)
    private const int ReplyBytes = 88;     // nlmsghdr (16) + inet_diag_msg (72)

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint send(int fd, byte[] buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint recv(int fd, [Out] byte[] buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint geteuid();

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int fstat(int fd, [Out] byte[] stat);

    /// <summary>This process's effective uid.</summary>
    public static uint EffectiveUid => geteuid();

    /// <summary>
    /// The owner uid and inode of the established IPv4 TCP socket whose own address is <paramref name="local"/> and whose
    /// peer is <paramref name="remote"/>; null when there is none (or netlink failed).
    /// </summary>
    public static (uint Uid, ulong Inode)? Lookup(IPEndPoint local, IPEndPoint remote)
    {
        var request = new byte[RequestBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(request, RequestBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), SOCK_DIAG_BY_FAMILY);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), NLM_F_REQUEST);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), 1);
        request[16] = AF_INET;
        request[17] = IPPROTO_TCP;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(20), 0xFFF); // every state; the lookup is exact anyway
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(24), (ushort)local.Port);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(26), (ushort)remote.Port);
        local.Address.MapToIPv4().TryWriteBytes(request.AsSpan(28, 4), out _);
        remote.Address.MapToIPv4().TryWriteBytes(request.AsSpan(44, 4), out _);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(64), ulong.MaxValue); // INET_DIAG_NOCOOKIE
        var fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
            return null;
        try
        {
            if (send(fd, request, RequestBytes, 0) != RequestBytes)
                return null;
            var reply = new byte[256];
            var n = recv(fd, reply, (nuint)reply.Length, 0);
            if (n < ReplyBytes || BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(4)) != SOCK_DIAG_BY_FAMILY)
                return null;
            return (BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(80)), BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(84)));
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// The socket inode open on <paramref name="fd"/> (struct stat on 64-bit Linux: st_ino at offset 8, st_mode at 24),
    /// or null when the descriptor is not open or not a socket.
    /// </summary>
    public static ulong? SocketInodeOf(int fd, byte[] stat)
    {
        const uint S_IFMT = 0xF000;
        const uint S_IFSOCK = 0xC000;
        if (fstat(fd, stat) != 0 || (BinaryPrimitives.ReadUInt32LittleEndian(stat.AsSpan(24)) & S_IFMT) != S_IFSOCK)
            return null;
        return BinaryPrimitives.ReadUInt64LittleEndian(stat.AsSpan(8));
    }
}
