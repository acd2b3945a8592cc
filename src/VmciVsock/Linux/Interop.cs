using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Vsock.Linux;

/// <summary>
/// The libc calls and constants of Linux AF_VSOCK (linux/vm_sockets.h) and of the readiness waits (epoll, eventfd)
/// that this backend makes itself, so that every errno is read where the call returns it.
/// </summary>
internal static unsafe partial class Interop
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

    /// <summary>SOL_SOCKET: the generic socket option level.</summary>
    internal const int SOL_SOCKET = 1;

    /// <summary>SO_ERROR: the pending error of a socket (read once a non-blocking connect is writable).</summary>
    internal const int SO_ERROR = 4;

    /// <summary>O_RDONLY for open(2).</summary>
    internal const int O_RDONLY = 0;

    /// <summary>O_NONBLOCK for fcntl(2).</summary>
    internal const int O_NONBLOCK = 0x800;

    /// <summary>O_CLOEXEC for open(2).</summary>
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>F_GETFL for fcntl(2).</summary>
    internal const int F_GETFL = 3;

    /// <summary>F_SETFL for fcntl(2).</summary>
    internal const int F_SETFL = 4;

    /// <summary>The vsock control device whose ioctl tells the local CID.</summary>
    internal const string VsockDevice = "/dev/vsock";

    /// <summary>IOCTL_VM_SOCKETS_GET_LOCAL_CID: _IO(7, 0xb9), writes the local CID (u32).</summary>
    internal const nuint IOCTL_VM_SOCKETS_GET_LOCAL_CID = 0x7b9;

    /// <summary>EPOLLIN: readable (a listener has a connection to accept).</summary>
    internal const uint EPOLLIN = 0x001;

    /// <summary>EPOLLOUT: writable (a non-blocking connect has finished).</summary>
    internal const uint EPOLLOUT = 0x004;

    /// <summary>EPOLLERR: an error is pending (always reported).</summary>
    internal const uint EPOLLERR = 0x008;

    /// <summary>EPOLLHUP: hang-up (always reported).</summary>
    internal const uint EPOLLHUP = 0x010;

    /// <summary>EPOLLONESHOT: report once, then disarm.</summary>
    internal const uint EPOLLONESHOT = 1u << 30;

    /// <summary>EPOLL_CTL_ADD.</summary>
    internal const int EPOLL_CTL_ADD = 1;

    /// <summary>EPOLL_CTL_DEL.</summary>
    internal const int EPOLL_CTL_DEL = 2;

    /// <summary>EPOLL_CLOEXEC for epoll_create1(2).</summary>
    internal const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>EINTR: interrupted system call, retried.</summary>
    internal const int EINTR = 4;

    /// <summary>EAGAIN: nothing to accept yet.</summary>
    internal const int EAGAIN = 11;

    /// <summary>ENOENT: no such file (no /dev/vsock).</summary>
    internal const int ENOENT = 2;

    /// <summary>EINPROGRESS: a non-blocking connect has started.</summary>
    internal const int EINPROGRESS = 115;

    /// <summary>ECONNABORTED: a connection was aborted before accept took it (retried).</summary>
    internal const int ECONNABORTED = 103;

    /// <summary><c>struct sockaddr_vm</c> (linux/vm_sockets.h), 16 bytes in host byte order.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    internal struct SockaddrVm
    {
        /// <summary>svm_family: AF_VSOCK.</summary>
        public ushort svm_family;

        /// <summary>svm_reserved1: zero.</summary>
        public ushort svm_reserved1;

        /// <summary>svm_port.</summary>
        public uint svm_port;

        /// <summary>svm_cid.</summary>
        public uint svm_cid;

        /// <summary>svm_flags (VMADDR_FLAG_TO_HOST = 1); svm_zero follows.</summary>
        public byte svm_flags;

        /// <summary>An address for <paramref name="address"/>.</summary>
        public static SockaddrVm For(VsockAddress address) =>
            new() { svm_family = AF_VSOCK, svm_port = address.Port, svm_cid = address.Cid };

        /// <summary>The CID and port.</summary>
        public readonly VsockAddress Address => new(svm_cid, svm_port);
    }

    /// <summary><c>struct timeval</c> of LP64 Linux: seconds and microseconds, both 64-bit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timeval
    {
        /// <summary>Seconds.</summary>
        public long tv_sec;

        /// <summary>Microseconds, 0..999999.</summary>
        public long tv_usec;
    }

    /// <summary><c>struct epoll_event</c>: packed on x86_64 (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct EpollEvent
    {
        /// <summary>The event mask.</summary>
        public uint events;

        /// <summary>epoll_data: here, the registration's key.</summary>
        public ulong data;
    }

    /// <summary>socket(2): a new fd, or -1 (wrap it at once with <see cref="OwnSocket"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    /// <summary>bind(2).</summary>
    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    internal static partial int bind(SafeSocketHandle fd, SockaddrVm* addr, uint addrlen);

    /// <summary>listen(2).</summary>
    [LibraryImport(Libc, EntryPoint = "listen", SetLastError = true)]
    internal static partial int listen(SafeSocketHandle fd, int backlog);

    /// <summary>connect(2).</summary>
    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    internal static partial int connect(SafeSocketHandle fd, SockaddrVm* addr, uint addrlen);

    /// <summary>accept4(2): a new fd, or -1 (wrap it at once with <see cref="OwnSocket"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int accept4(SafeSocketHandle fd, SockaddrVm* addr, uint* addrlen, int flags);

    /// <summary>getsockname(2).</summary>
    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    internal static partial int getsockname(SafeSocketHandle fd, SockaddrVm* addr, ref uint addrlen);

    /// <summary>getpeername(2).</summary>
    [LibraryImport(Libc, EntryPoint = "getpeername", SetLastError = true)]
    internal static partial int getpeername(SafeSocketHandle fd, SockaddrVm* addr, ref uint addrlen);

    /// <summary>setsockopt(2).</summary>
    [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int setsockopt(SafeSocketHandle fd, int level, int optname, void* optval, uint optlen);

    /// <summary>getsockopt(2).</summary>
    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    internal static partial int getsockopt(SafeSocketHandle fd, int level, int optname, void* optval, ref uint optlen);

    /// <summary>fcntl(2) with an int argument (F_GETFL, F_SETFL).</summary>
    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(SafeSocketHandle fd, int cmd, int arg);

    /// <summary>open(2): a new fd, or -1 (wrap it at once with <see cref="OwnFile"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);

    /// <summary>ioctl(2) with a pointer argument.</summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int ioctl(SafeFileHandle fd, nuint request, uint* arg);

    /// <summary>epoll_create1(2): a new fd, or -1.</summary>
    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    /// <summary>epoll_ctl(2) on a raw fd (the caller keeps the fd alive while it is registered).</summary>
    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int epoll_ctl(SafeFileHandle epfd, int op, int fd, EpollEvent* ev);

    /// <summary>epoll_wait(2).</summary>
    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int epoll_wait(SafeFileHandle epfd, EpollEvent* events, int maxevents, int timeout);

    /// <summary>The errno of the last call above.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>
    /// A handle that owns <paramref name="fd"/> from now on, or null for -1. The calls return a C <c>int</c>, so they are
    /// declared as returning <see cref="int"/>: marshalled straight into a SafeHandle, -1 would arrive as 0xFFFFFFFF,
    /// which is not the invalid value, and a failed call would look like a descriptor.
    /// </summary>
    internal static SafeSocketHandle? OwnSocket(int fd) => fd < 0 ? null : new SafeSocketHandle(fd, ownsHandle: true);

    /// <inheritdoc cref="OwnSocket"/>
    internal static SafeFileHandle? OwnFile(int fd) => fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
}
