using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Conformance.Kernel;

/// <summary>
/// The suite's own raw AF_VSOCK calls, for checks of what the kernel itself answers (option encodings and lengths),
/// independent of the backend under test.
/// </summary>
internal static unsafe partial class RawVsock
{
    /// <summary>AF_VSOCK.</summary>
    public const int AF_VSOCK = 40;

    /// <summary>SO_VM_SOCKETS_BUFFER_SIZE.</summary>
    public const int SO_VM_SOCKETS_BUFFER_SIZE = 0;

    /// <summary>SO_VM_SOCKETS_CONNECT_TIMEOUT (the 64-bit struct timeval variant).</summary>
    public const int SO_VM_SOCKETS_CONNECT_TIMEOUT = 6;

    /// <summary><c>struct timeval</c> of LP64 Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Timeval
    {
        /// <summary>Seconds.</summary>
        public long Seconds;

        /// <summary>Microseconds.</summary>
        public long Microseconds;
    }

    /// <summary>A fresh AF_VSOCK stream socket.</summary>
    public static SafeSocketHandle Socket()
    {
        var fd = socket(AF_VSOCK, 1 /* SOCK_STREAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
        Assert.True(fd >= 0, $"socket(AF_VSOCK) failed with errno {Marshal.GetLastPInvokeError()}");
        return new SafeSocketHandle(fd, ownsHandle: true);
    }

    /// <summary>setsockopt at level AF_VSOCK: (return code, errno).</summary>
    public static (int Rc, int Errno) Set(SafeSocketHandle handle, int option, void* value, uint length)
    {
        var rc = setsockopt(handle, AF_VSOCK, option, value, length);
        return (rc, rc < 0 ? Marshal.GetLastPInvokeError() : 0);
    }

    /// <summary>getsockopt at level AF_VSOCK: (return code, errno, length written).</summary>
    public static (int Rc, int Errno, uint Length) Get(SafeSocketHandle handle, int option, void* value, uint length)
    {
        var rc = getsockopt(handle, AF_VSOCK, option, value, ref length);
        return (rc, rc < 0 ? Marshal.GetLastPInvokeError() : 0, length);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(SafeSocketHandle fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(SafeSocketHandle fd, int level, int optname, void* optval, ref uint optlen);
}
