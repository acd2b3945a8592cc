using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Vmci.Sim.Unix;

/// <summary>
/// Unix domain sockets bound by this code rather than by <see cref="Socket.Bind"/>: .NET unlinks the path a socket bound
/// when the socket is disposed — whatever that path names by then, even another process's file — so the simulator binds
/// with bind(2) itself and wraps the descriptor, and removes its own names itself. Also the peer's bound name
/// (getpeername) and credentials (SO_PEERCRED), with which both ends check who they talk to.
/// </summary>
internal static unsafe class UnixSockets
{
    /// <summary>A Unix stream socket bound at <paramref name="path"/> (and listening when <paramref name="backlog"/> is given); null with the errno.</summary>
    /// <remarks>bind(2) creates the name and fails with EADDRINUSE when anything exists there, a link included: it never follows one.</remarks>
    public static Socket? TryCreateBound(string path, int? backlog, out int errno)
    {
        if (!UnixFiles.IsStrict)
            return ManagedBound(path, backlog, out errno);
        var fd = Interop.socket(Interop.AF_UNIX, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        Span<byte> address = stackalloc byte[Interop.SockaddrUnSize];
        var length = Encode(path, address);
        if (length < 0)
        {
            handle.Dispose();
            errno = Interop.ENAMETOOLONG;
            return null;
        }
        fixed (byte* a = address)
        {
            while ((errno = Interop.bind(fd, a, length) < 0 ? Marshal.GetLastPInvokeError() : 0) == Interop.EINTR)
            {
            }
        }
        if (errno == 0 && backlog is { } b)
            errno = Interop.listen(fd, b) < 0 ? Marshal.GetLastPInvokeError() : 0; // listen(2) does not block: no EINTR
        if (errno != 0)
        {
            handle.Dispose();
            return null;
        }
        return new Socket(handle);
    }

    /// <summary>The name the peer of a connected socket is bound to (getpeername); null for an unbound or abstract peer.</summary>
    public static string? PeerPath(Socket socket)
    {
        if (!UnixFiles.IsStrict)
            return (socket.RemoteEndPoint as UnixDomainSocketEndPoint)?.ToString() is { Length: > 0 } managed ? managed : null;
        Span<byte> address = stackalloc byte[Interop.SockaddrUnSize];
        var length = address.Length;
        int result;
        fixed (byte* a = address)
        {
            result = Interop.getpeername(socket.SafeHandle.DangerousGetHandle(), a, ref length);
        }
        if (result < 0 || length <= 2 || address[2] == 0)
            return null; // unnamed, abstract, or the socket is gone
        var path = address[2..Math.Min(length, address.Length)];
        var end = path.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? path[..end] : path);
    }

    /// <summary>The peer's user id as of connect(2) or listen(2) (SO_PEERCRED); null where the OS cannot tell.</summary>
    public static uint? PeerUid(Socket socket)
    {
        if (!UnixFiles.IsStrict)
            return null;
        var length = sizeof(Interop.Ucred);
        return Interop.getsockopt(socket.SafeHandle.DangerousGetHandle(), Interop.SOL_SOCKET, Interop.SO_PEERCRED, out var credentials, ref length) == 0
            ? credentials.Uid
            : null;
    }

    /// <summary>sockaddr_un for <paramref name="path"/>: its length, or -1 when the path does not fit sun_path.</summary>
    private static int Encode(string path, Span<byte> address)
    {
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > UnixPlatform.MaxSocketPathBytes)
            return -1;
        address.Clear();
        BitConverter.TryWriteBytes(address, (ushort)Interop.AF_UNIX);
        Encoding.UTF8.GetBytes(path, address[2..]);
        return 2 + bytes + 1;
    }

    private static Socket? ManagedBound(string path, int? backlog, out int errno)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (backlog is { } b)
                socket.Listen(b);
            errno = 0;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            errno = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? Interop.EADDRINUSE : e.ErrorCode;
            return null;
        }
    }
}
