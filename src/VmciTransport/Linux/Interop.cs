using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Transport.Linux;

/// <summary>The few libc calls and constants of Linux AF_VSOCK (linux/vm_sockets.h) that .NET does not offer.</summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>AF_VSOCK: the vsock address family.</summary>
    internal const int AF_VSOCK = 40;

    /// <summary>SOCK_STREAM: connection-oriented byte stream.</summary>
    internal const int SOCK_STREAM = 1;

    /// <summary>SOCK_CLOEXEC: close the fd on exec (no leak into child processes).</summary>
    internal const int SOCK_CLOEXEC = 0x80000;

    /// <summary>SOCK_NONBLOCK: non-blocking socket.</summary>
    internal const int SOCK_NONBLOCK = 0x800;

    /// <summary>O_RDONLY for open(2).</summary>
    internal const int O_RDONLY = 0;

    /// <summary>O_CLOEXEC for open(2).</summary>
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>The vsock control device whose ioctl tells the local CID.</summary>
    internal const string VsockDevice = "/dev/vsock";

    /// <summary>IOCTL_VM_SOCKETS_GET_LOCAL_CID: _IO(7, 0xb9), writes the local CID (u32).</summary>
    internal const nuint IOCTL_VM_SOCKETS_GET_LOCAL_CID = 0x7b9;

    /// <summary>SO_VM_SOCKETS_BUFFER_SIZE (u64).</summary>
    internal const int SO_VM_SOCKETS_BUFFER_SIZE = 0;

    /// <summary>SO_VM_SOCKETS_BUFFER_MIN_SIZE (u64).</summary>
    internal const int SO_VM_SOCKETS_BUFFER_MIN_SIZE = 1;

    /// <summary>SO_VM_SOCKETS_BUFFER_MAX_SIZE (u64).</summary>
    internal const int SO_VM_SOCKETS_BUFFER_MAX_SIZE = 2;

    /// <summary>SO_VM_SOCKETS_CONNECT_TIMEOUT (SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD = 6: a 64-bit struct timeval on x86_64/arm64).</summary>
    internal const int SO_VM_SOCKETS_CONNECT_TIMEOUT = 6;

    /// <summary>EINTR: interrupted system call, retried.</summary>
    internal const int EINTR = 4;

    /// <summary>ENOENT: no such file (no /dev/vsock).</summary>
    internal const int ENOENT = 2;

    /// <summary><c>struct timeval</c> of LP64 Linux: seconds and microseconds, both 64-bit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timeval
    {
        /// <summary>Seconds.</summary>
        public long tv_sec;

        /// <summary>Microseconds, 0..999999.</summary>
        public long tv_usec;
    }

    /// <summary>socket(2): the returned handle owns the fd from the moment it exists (invalid on error).</summary>
    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial SafeSocketHandle socket(int domain, int type, int protocol);

    /// <summary>getsockname(2) into a sockaddr_vm.</summary>
    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int getsockname(SafeSocketHandle fd, byte* addr, ref uint addrlen);

    /// <summary>getpeername(2) into a sockaddr_vm.</summary>
    [LibraryImport(Libc, EntryPoint = "getpeername", SetLastError = true)]
    internal static unsafe partial int getpeername(SafeSocketHandle fd, byte* addr, ref uint addrlen);

    /// <summary>setsockopt(2).</summary>
    [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int setsockopt(SafeSocketHandle fd, int level, int optname, void* optval, uint optlen);

    /// <summary>getsockopt(2).</summary>
    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int getsockopt(SafeSocketHandle fd, int level, int optname, void* optval, ref uint optlen);

    /// <summary>connect(2) with a sockaddr_vm; used only to recover an errno .NET did not keep.</summary>
    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int connect(SafeSocketHandle fd, byte* addr, uint addrlen);

    /// <summary>open(2) for /dev/vsock.</summary>
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeFileHandle open(string path, int flags);

    /// <summary>ioctl(2) with a pointer argument.</summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int ioctl(SafeFileHandle fd, nuint request, uint* arg);

    /// <summary>The errno of the last call above.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();
}
