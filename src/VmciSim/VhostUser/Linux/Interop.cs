using System.Runtime.InteropServices;

namespace Vmci.Sim.VhostUser.Linux;

/// <summary>
/// The libc calls of the vhost-user device that .NET does not offer (or not without a thread pool hop): poll(2),
/// recvmsg(2) with SCM_RIGHTS, recv(2) and send(2) without waiting,
/// eventfd(2), read(2)/write(2) on an eventfd, mmap(2)/munmap(2), lseek(2), socketpair(2) and close(2). Linux only
/// (LP64 layouts); every call that can return EINTR is retried by <see cref="NativeIo"/>, not here.
/// </summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>EINTR: interrupted system call, retried.</summary>
    internal const int EINTR = 4;

    /// <summary>EAGAIN: the non-blocking call would block.</summary>
    internal const int EAGAIN = 11;

    /// <summary>EPIPE: the other end is gone (or shut down).</summary>
    internal const int EPIPE = 32;

    /// <summary>AF_UNIX: Unix domain sockets.</summary>
    internal const int AF_UNIX = 1;

    /// <summary>SOCK_STREAM: connection-oriented byte stream.</summary>
    internal const int SOCK_STREAM = 1;

    /// <summary>SOCK_CLOEXEC: close the fd on exec (no leak into child processes).</summary>
    internal const int SOCK_CLOEXEC = 0x80000;

    /// <summary>POLLIN: there is data to read.</summary>
    internal const short POLLIN = 0x1;

    /// <summary>POLLOUT: writing will not block.</summary>
    internal const short POLLOUT = 0x4;

    /// <summary>POLLERR: error condition (output only).</summary>
    internal const short POLLERR = 0x8;

    /// <summary>POLLHUP: hang up (output only).</summary>
    internal const short POLLHUP = 0x10;

    /// <summary>POLLNVAL: the fd is not open (output only).</summary>
    internal const short POLLNVAL = 0x20;

    /// <summary>SOL_SOCKET: the socket level of a control message.</summary>
    internal const int SOL_SOCKET = 1;

    /// <summary>SCM_RIGHTS: a control message that carries file descriptors.</summary>
    internal const int SCM_RIGHTS = 1;

    /// <summary>MSG_CTRUNC: control data was discarded for lack of space (recvmsg output flag).</summary>
    internal const int MSG_CTRUNC = 0x8;

    /// <summary>MSG_DONTWAIT: this one call does not block.</summary>
    internal const int MSG_DONTWAIT = 0x40;

    /// <summary>MSG_NOSIGNAL: no SIGPIPE when the peer has gone; EPIPE instead.</summary>
    internal const int MSG_NOSIGNAL = 0x4000;

    /// <summary>MSG_CMSG_CLOEXEC: received file descriptors get FD_CLOEXEC.</summary>
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>EFD_CLOEXEC: the eventfd is closed on exec.</summary>
    internal const int EFD_CLOEXEC = 0x80000;

    /// <summary>EFD_NONBLOCK: reading a zero eventfd fails with EAGAIN instead of blocking.</summary>
    internal const int EFD_NONBLOCK = 0x800;

    /// <summary>PROT_READ: pages may be read.</summary>
    internal const int PROT_READ = 0x1;

    /// <summary>PROT_WRITE: pages may be written.</summary>
    internal const int PROT_WRITE = 0x2;

    /// <summary>MAP_SHARED: writes go to the file (guest memory is shared with QEMU and the guest).</summary>
    internal const int MAP_SHARED = 0x1;

    /// <summary>SEEK_END: lseek relative to the end of the file (its size).</summary>
    internal const int SEEK_END = 2;

    /// <summary>The value mmap returns on failure.</summary>
    internal static readonly nint MAP_FAILED = -1;

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        /// <summary>The file descriptor.</summary>
        public int fd;

        /// <summary>Requested events.</summary>
        public short events;

        /// <summary>Returned events.</summary>
        public short revents;
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        /// <summary>Start of the buffer.</summary>
        public void* iov_base;

        /// <summary>Its length.</summary>
        public nuint iov_len;
    }

    /// <summary><c>struct msghdr</c> (LP64: socklen_t msg_namelen is padded to 8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHdr
    {
        /// <summary>Optional address.</summary>
        public void* msg_name;

        /// <summary>Size of the address.</summary>
        public uint msg_namelen;

        /// <summary>Scatter/gather array.</summary>
        public IoVec* msg_iov;

        /// <summary>Elements in <see cref="msg_iov"/>.</summary>
        public nuint msg_iovlen;

        /// <summary>Ancillary data buffer.</summary>
        public void* msg_control;

        /// <summary>Its length.</summary>
        public nuint msg_controllen;

        /// <summary>Flags on the received message.</summary>
        public int msg_flags;
    }

    /// <summary><c>struct cmsghdr</c> (LP64): the data follows, aligned to 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        /// <summary>Header plus data, in bytes.</summary>
        public nuint cmsg_len;

        /// <summary>Originating protocol.</summary>
        public int cmsg_level;

        /// <summary>Protocol-specific type.</summary>
        public int cmsg_type;
    }

    /// <summary>poll(2).</summary>
    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int poll(PollFd* fds, nuint nfds, int timeout);

    /// <summary>recvmsg(2).</summary>
    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint recvmsg(SafeHandle fd, MsgHdr* msg, int flags);

    /// <summary>sendmsg(2).</summary>
    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint sendmsg(SafeHandle fd, MsgHdr* msg, int flags);

    /// <summary>recv(2).</summary>
    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint recv(SafeHandle fd, byte* buf, nuint len, int flags);

    /// <summary>send(2).</summary>
    [LibraryImport(Libc, EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint send(SafeHandle fd, byte* buf, nuint len, int flags);

    /// <summary>eventfd(2): the new fd, or -1.</summary>
    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    /// <summary>read(2).</summary>
    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint read(SafeHandle fd, void* buf, nuint count);

    /// <summary>write(2).</summary>
    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint write(SafeHandle fd, void* buf, nuint count);

    /// <summary>mmap(2).</summary>
    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, SafeHandle fd, long offset);

    /// <summary>munmap(2).</summary>
    [LibraryImport(Libc, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int munmap(nint addr, nuint length);

    /// <summary>lseek(2): with <see cref="SEEK_END"/> and offset 0, the size of the file.</summary>
    [LibraryImport(Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long lseek(SafeHandle fd, long offset, int whence);

    /// <summary>socketpair(2).</summary>
    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary>close(2); only <see cref="FileDescriptor"/> calls it.</summary>
    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int close(int fd);

    /// <summary>The errno of the last call above.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();
}
