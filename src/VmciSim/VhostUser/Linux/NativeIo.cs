using System.Runtime.InteropServices;

namespace Vmci.Sim.VhostUser.Linux;

/// <summary>
/// The device's system calls with their rules applied once: EINTR retried, received descriptors owned at once, errno
/// returned (never thrown) so that callers word the error. Linux only.
/// </summary>
internal static unsafe class NativeIo
{
    /// <summary>The most descriptors one vhost-user message may carry (VHOST_MEMORY_BASELINE_NREGIONS).</summary>
    public const int MaxDescriptorsPerMessage = 8;

    /// <summary>poll(2), EINTR retried: the number of ready descriptors, or -errno.</summary>
    public static int Poll(Span<Interop.PollFd> fds, int timeoutMilliseconds)
    {
        fixed (Interop.PollFd* p = fds)
        {
            while (true)
            {
                var n = Interop.poll(p, (nuint)fds.Length, timeoutMilliseconds);
                if (n >= 0)
                    return n;
                var errno = Interop.LastErrno;
                if (errno != Interop.EINTR)
                    return -errno;
            }
        }
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>, EINTR retried: bytes read (0: the peer closed), or -errno. Every
    /// descriptor that arrives is appended to <paramref name="received"/> (owned from that moment);
    /// <paramref name="truncated"/> is true when the kernel dropped some for lack of room.
    /// </summary>
    public static nint ReceiveWithDescriptors(SafeHandle socket, Span<byte> buffer, List<FileDescriptor> received, int flags, out bool truncated)
    {
        const int space = 16 + (sizeof(int) * MaxDescriptorsPerMessage); // CMSG_SPACE(8 ints) on LP64
        var control = stackalloc byte[space + 8];
        var aligned = (byte*)(((nuint)control + 7) & ~(nuint)7);
        fixed (byte* data = buffer)
        {
            var iov = new Interop.IoVec { iov_base = data, iov_len = (nuint)buffer.Length };
            var msg = new Interop.MsgHdr { msg_iov = &iov, msg_iovlen = 1, msg_control = aligned, msg_controllen = space };
            nint n;
            while ((n = Interop.recvmsg(socket, &msg, flags | Interop.MSG_CMSG_CLOEXEC)) < 0 && Interop.LastErrno == Interop.EINTR)
                msg.msg_controllen = space;
            var errno = n < 0 ? Interop.LastErrno : 0;
            truncated = n >= 0 && (msg.msg_flags & Interop.MSG_CTRUNC) != 0;
            if (n >= 0)
                CollectDescriptors(aligned, (nuint)msg.msg_controllen, received);
            return n < 0 ? -errno : n;
        }
    }

    /// <summary>sendmsg(2) of <paramref name="buffer"/> with <paramref name="descriptors"/> as SCM_RIGHTS (the fake front-end of the tests): bytes sent or -errno.</summary>
    public static nint SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> buffer, ReadOnlySpan<int> descriptors)
    {
        if (descriptors.Length > MaxDescriptorsPerMessage)
            return -22; // EINVAL
        const int space = 16 + (sizeof(int) * MaxDescriptorsPerMessage);
        var control = stackalloc byte[space + 8];
        var aligned = (byte*)(((nuint)control + 7) & ~(nuint)7);
        var length = 16 + (sizeof(int) * descriptors.Length);
        var header = (Interop.CmsgHdr*)aligned;
        header->cmsg_len = (nuint)length;
        header->cmsg_level = Interop.SOL_SOCKET;
        header->cmsg_type = Interop.SCM_RIGHTS;
        descriptors.CopyTo(new Span<int>(aligned + 16, descriptors.Length));
        fixed (byte* data = buffer)
        {
            var iov = new Interop.IoVec { iov_base = data, iov_len = (nuint)buffer.Length };
            var msg = new Interop.MsgHdr
            {
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = descriptors.IsEmpty ? null : aligned,
                msg_controllen = descriptors.IsEmpty ? 0 : (nuint)((length + 7) & ~7),
            };
            nint n;
            while ((n = Interop.sendmsg(socket, &msg, Interop.MSG_NOSIGNAL)) < 0 && Interop.LastErrno == Interop.EINTR)
            {
            }
            return n < 0 ? -Interop.LastErrno : n;
        }
    }

    /// <summary>Sends every byte, waiting up to <paramref name="timeoutMilliseconds"/> in total while the socket is full: 0 or errno.</summary>
    public static int SendAll(SafeHandle socket, ReadOnlySpan<byte> buffer, int timeoutMilliseconds)
    {
        var deadline = Environment.TickCount64 + timeoutMilliseconds;
        fixed (byte* data = buffer)
        {
            var sent = 0;
            while (sent < buffer.Length)
            {
                var n = Interop.send(socket, data + sent, (nuint)(buffer.Length - sent), Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT);
                if (n > 0)
                {
                    sent += (int)n;
                    continue;
                }
                var errno = Interop.LastErrno;
                if (errno == Interop.EINTR)
                    continue;
                if (errno != Interop.EAGAIN)
                    return errno;
                var ready = WaitFor(socket, Interop.POLLOUT, (int)Math.Max(0, deadline - Environment.TickCount64));
                if (ready < 0)
                    return -ready;
                if (ready == 0)
                    return 110; // ETIMEDOUT
            }
            return 0;
        }
    }

    /// <summary>poll(2) on one descriptor for <paramref name="events"/>: 1 when ready, 0 on timeout, or -errno.</summary>
    public static int WaitFor(SafeHandle handle, short events, int timeoutMilliseconds)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            Span<Interop.PollFd> wait = [new Interop.PollFd { fd = (int)handle.DangerousGetHandle(), events = events }];
            return Poll(wait, timeoutMilliseconds);
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>recv(2) without waiting, EINTR retried: bytes read (0: end of stream), or -errno (-EAGAIN: nothing there yet).</summary>
    public static nint Receive(SafeHandle socket, Span<byte> buffer)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var n = Interop.recv(socket, data, (nuint)buffer.Length, Interop.MSG_DONTWAIT);
                if (n >= 0)
                    return n;
                var errno = Interop.LastErrno;
                if (errno != Interop.EINTR)
                    return -errno;
            }
        }
    }

    /// <summary>send(2) without waiting and without SIGPIPE, EINTR retried: bytes sent, or -errno (-EAGAIN: the socket is full).</summary>
    public static nint Send(SafeHandle socket, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var n = Interop.send(socket, data, (nuint)buffer.Length, Interop.MSG_DONTWAIT | Interop.MSG_NOSIGNAL);
                if (n >= 0)
                    return n;
                var errno = Interop.LastErrno;
                if (errno != Interop.EINTR)
                    return -errno;
            }
        }
    }

    /// <summary>
    /// After end of stream on a Unix stream socket: true when the peer closed it (or shut down its receiving side) —
    /// then the kernel has shut this end's sending side too, and even an empty send(2) fails with EPIPE — false when
    /// the peer only shut down its sending side (an empty send succeeds). Nothing is sent either way.
    /// </summary>
    public static bool PeerClosed(SafeHandle socket)
    {
        byte none = 0;
        while (true)
        {
            if (Interop.send(socket, &none, 0, Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT) >= 0)
                return false;
            var errno = Interop.LastErrno;
            if (errno != Interop.EINTR)
                return errno == Interop.EPIPE;
        }
    }

    /// <summary>A new non-blocking, close-on-exec eventfd.</summary>
    public static FileDescriptor? CreateEventFd(out int errno)
    {
        var fd = Interop.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        errno = fd < 0 ? Interop.LastErrno : 0;
        return fd < 0 ? null : new FileDescriptor(fd);
    }

    /// <summary>Adds 1 to an eventfd (a kick, a call, a wake-up): 0 or errno. EAGAIN (counter full) counts as done.</summary>
    public static int Signal(FileDescriptor eventFd)
    {
        ulong one = 1;
        while (true)
        {
            if (Interop.write(eventFd, &one, sizeof(ulong)) == sizeof(ulong))
                return 0;
            var errno = Interop.LastErrno;
            if (errno == Interop.EAGAIN)
                return 0;
            if (errno != Interop.EINTR)
                return errno;
        }
    }

    /// <summary>
    /// Resets an eventfd to zero; returns the count it held (how many signals since the last drain), 0 when none.
    /// Works on blocking eventfds only when signalled.
    /// </summary>
    public static ulong Drain(FileDescriptor eventFd)
    {
        ulong value;
        while (true)
        {
            if (Interop.read(eventFd, &value, sizeof(ulong)) == sizeof(ulong))
                return value;
            if (Interop.LastErrno != Interop.EINTR)
                return 0;
        }
    }

    /// <summary>The size of the file behind <paramref name="fd"/> (a memfd), or -errno.</summary>
    public static long FileSize(FileDescriptor fd)
    {
        var size = Interop.lseek(fd, 0, Interop.SEEK_END);
        return size < 0 ? -Interop.LastErrno : size;
    }

    /// <summary>A connected pair of Unix stream sockets (close-on-exec).</summary>
    public static (FileDescriptor First, FileDescriptor Second)? SocketPair(out int errno)
    {
        var pair = stackalloc int[2];
        if (Interop.socketpair(Interop.AF_UNIX, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC, 0, pair) != 0)
        {
            errno = Interop.LastErrno;
            return null;
        }
        errno = 0;
        return (new FileDescriptor(pair[0]), new FileDescriptor(pair[1]));
    }

    private static void CollectDescriptors(byte* control, nuint length, List<FileDescriptor> received)
    {
        var offset = (nuint)0;
        while (offset + 16 <= length)
        {
            var header = (Interop.CmsgHdr*)(control + offset);
            if (header->cmsg_len < 16 || offset + header->cmsg_len > length)
                return;
            if (header->cmsg_level == Interop.SOL_SOCKET && header->cmsg_type == Interop.SCM_RIGHTS)
            {
                var count = (int)((header->cmsg_len - 16) / sizeof(int));
                var fds = (int*)(control + offset + 16);
                for (var i = 0; i < count; i++)
                    received.Add(new FileDescriptor(fds[i]));
            }
            offset += (header->cmsg_len + 7) & ~(nuint)7;
        }
    }
}
