using System.Net.Sockets;

namespace Vmci.Vsock.Linux;

/// <summary>
/// The system calls of one AF_VSOCK socket, each retried on EINTR and each reading its own errno: create, bind, listen,
/// a non-blocking connect and its SO_ERROR, accept, the addresses and the level-40 options. Failures go through
/// <see cref="VmciError.FromErrno"/> with the rule that was broken, where the kernel's rule is known.
/// </summary>
internal static unsafe class VsockSocket
{
    private const string NotLinux = "kernel vsock (AF_VSOCK) exists only on Linux; this OS is not supported (use the simulator backend)";

    /// <summary>Throws the clear "not supported on this OS" error when not on Linux.</summary>
    public static void EnsureLinux(VmciOperation operation, string? endpoint)
    {
        if (!OperatingSystem.IsLinux())
            throw VmciError.Create(Errno.EAFNOSUPPORT, operation, endpoint, NotLinux);
    }

    /// <summary>A fresh AF_VSOCK stream socket (close-on-exec; non-blocking when <paramref name="nonBlocking"/>).</summary>
    public static SafeSocketHandle Create(VmciOperation operation, string? endpoint, bool nonBlocking)
    {
        EnsureLinux(operation, endpoint);
        var type = Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC | (nonBlocking ? Interop.SOCK_NONBLOCK : 0);
        while (true)
        {
            if (Interop.OwnSocket(Interop.socket(Interop.AF_VSOCK, type, 0)) is { } handle)
                return handle;
            var errno = Interop.LastErrno;
            if (errno != Interop.EINTR)
                throw VmciError.FromErrno(errno, operation, endpoint,
                    errno == (int)Errno.EAFNOSUPPORT ? "this kernel has no AF_VSOCK (load the vsock module and a transport)" : "socket");
        }
    }

    /// <summary>bind(2), with the kernel's rules named in the error.</summary>
    public static void Bind(SafeSocketHandle socket, VsockAddress address, string endpoint)
    {
        var sa = Interop.SockaddrVm.For(address);
        int errno;
        do
            errno = ErrnoOf(Interop.bind(socket, &sa, (uint)sizeof(Interop.SockaddrVm)));
        while (errno == Interop.EINTR);
        if (errno != 0)
        {
            throw VmciError.FromErrno(errno, VmciOperation.Bind, endpoint, (Errno)errno switch
            {
                Errno.EADDRNOTAVAIL => "the cid must be * or this machine's own CID",
                Errno.EADDRINUSE => "another socket is bound to that port (on any cid)",
                Errno.EACCES => $"ports <= {VmciPort.LastReserved} need CAP_NET_BIND_SERVICE",
                _ => null,
            });
        }
    }

    /// <summary>listen(2).</summary>
    public static void Listen(SafeSocketHandle socket, int backlog, string endpoint)
    {
        int errno;
        do
            errno = ErrnoOf(Interop.listen(socket, backlog));
        while (errno == Interop.EINTR);
        if (errno != 0)
            throw VmciError.FromErrno(errno, VmciOperation.Listen, endpoint);
    }

    /// <summary>Starts a non-blocking connect; true when it is already connected, false while it is in progress.</summary>
    public static bool StartConnect(SafeSocketHandle socket, VsockAddress remote, string endpoint)
    {
        var sa = Interop.SockaddrVm.For(remote);
        var rc = Interop.connect(socket, &sa, (uint)sizeof(Interop.SockaddrVm));
        if (rc == 0)
            return true;
        var errno = Interop.LastErrno;
        // EINTR on a non-blocking connect: the connect goes on asynchronously, exactly as EINPROGRESS.
        if (errno is Interop.EINPROGRESS or Interop.EINTR)
            return false;
        throw ConnectError(errno, remote, endpoint);
    }

    /// <summary>The outcome of a non-blocking connect once the socket is writable (SO_ERROR).</summary>
    public static void FinishConnect(SafeSocketHandle socket, VsockAddress remote, string endpoint)
    {
        int error = 0;
        var length = (uint)sizeof(int);
        int errno;
        do
            errno = ErrnoOf(Interop.getsockopt(socket, Interop.SOL_SOCKET, Interop.SO_ERROR, &error, ref length));
        while (errno == Interop.EINTR);
        if (errno != 0)
            throw VmciError.FromErrno(errno, VmciOperation.Connect, endpoint, "getsockopt(SO_ERROR)");
        if (error != 0)
            throw ConnectError(error, remote, endpoint);
    }

    /// <summary>accept4(2) on a non-blocking listener: the new (blocking, close-on-exec) socket, or null when none is queued.</summary>
    public static SafeSocketHandle? TryAccept(SafeSocketHandle listener, string endpoint)
    {
        while (true)
        {
            if (Interop.OwnSocket(Interop.accept4(listener, null, null, Interop.SOCK_CLOEXEC)) is { } handle)
                return handle;
            var errno = Interop.LastErrno;
            switch (errno)
            {
                case Interop.EINTR or Interop.ECONNABORTED:
                    continue;
                case Interop.EAGAIN:
                    return null;
                default:
                    throw VmciError.FromErrno(errno, VmciOperation.Accept, endpoint);
            }
        }
    }

    /// <summary>Clears O_NONBLOCK, so that the descriptor starts as .NET expects a fresh socket's to be.</summary>
    public static void MakeBlocking(SafeSocketHandle socket, VmciOperation operation, string endpoint)
    {
        var flags = Interop.fcntl(socket, Interop.F_GETFL, 0);
        if (flags < 0 || Interop.fcntl(socket, Interop.F_SETFL, flags & ~Interop.O_NONBLOCK) < 0)
            throw VmciError.FromErrno(Interop.LastErrno, operation, endpoint, "fcntl(O_NONBLOCK)");
    }

    /// <summary>getsockname(2).</summary>
    public static VsockAddress LocalAddress(SafeSocketHandle socket, VmciOperation operation, string? endpoint) =>
        QueryName(socket, operation, endpoint, peer: false);

    /// <summary>getpeername(2).</summary>
    public static VsockAddress RemoteAddress(SafeSocketHandle socket, VmciOperation operation, string? endpoint) =>
        QueryName(socket, operation, endpoint, peer: true);

    /// <summary>Applies <paramref name="options"/> in their order (max, min, size, timeout).</summary>
    public static void Apply(SafeSocketHandle socket, VsockOptions? options, string? endpoint)
    {
        if (options is null)
            return;
        foreach (var (option, value) in options.InApplyOrder())
            SetOption(socket, option, value, endpoint);
    }

    /// <summary>setsockopt at level AF_VSOCK: buffer sizes as u64, the connect timeout as a struct timeval {s, µs}.</summary>
    public static void SetOption(SafeSocketHandle socket, VsockOption option, ulong value, string? endpoint)
    {
        int errno;
        if (option == VsockOption.ConnectTimeout)
        {
            if (value > long.MaxValue / 1000)
                throw VmciError.Create(Errno.ERANGE, VmciOperation.SetOption, endpoint, $"connect timeout {value} ms does not fit a timeval");
            var tv = new Interop.Timeval { tv_sec = (long)(value / 1000), tv_usec = (long)(value % 1000 * 1000) };
            do
                errno = ErrnoOf(Interop.setsockopt(socket, Interop.AF_VSOCK, (int)option, &tv, (uint)sizeof(Interop.Timeval)));
            while (errno == Interop.EINTR);
        }
        else
        {
            do
                errno = ErrnoOf(Interop.setsockopt(socket, Interop.AF_VSOCK, (int)option, &value, sizeof(ulong)));
            while (errno == Interop.EINTR);
        }
        if (errno != 0)
            throw VmciError.FromErrno(errno, VmciOperation.SetOption, endpoint, $"option {option} ({(int)option}) = {value}");
    }

    /// <summary>getsockopt at level AF_VSOCK; the connect timeout comes back in milliseconds.</summary>
    public static ulong GetOption(SafeSocketHandle socket, VsockOption option, string? endpoint)
    {
        ulong result;
        int errno;
        if (option == VsockOption.ConnectTimeout)
        {
            var tv = default(Interop.Timeval);
            uint length;
            do
            {
                length = (uint)sizeof(Interop.Timeval);
                errno = ErrnoOf(Interop.getsockopt(socket, Interop.AF_VSOCK, (int)option, &tv, ref length));
            }
            while (errno == Interop.EINTR);
            result = (ulong)tv.tv_sec * 1000 + (ulong)tv.tv_usec / 1000;
        }
        else
        {
            ulong value = 0;
            uint length;
            do
            {
                length = sizeof(ulong);
                errno = ErrnoOf(Interop.getsockopt(socket, Interop.AF_VSOCK, (int)option, &value, ref length));
            }
            while (errno == Interop.EINTR);
            result = value;
        }
        return errno != 0 ? throw VmciError.FromErrno(errno, VmciOperation.GetOption, endpoint, $"option {option} ({(int)option})") : result;
    }

    private static VmciException ConnectError(int errno, VsockAddress remote, string endpoint) =>
        VmciError.FromErrno(errno, VmciOperation.Connect, endpoint, (Errno)errno switch
        {
            Errno.ECONNRESET => $"nobody listens on port {remote.Port} of CID {remote.Cid}",
            Errno.ENODEV => $"no vsock transport reaches CID {remote.Cid}",
            Errno.ENETUNREACH => $"the transport's policy refuses connections to CID {remote.Cid}",
            Errno.ETIMEDOUT => "no answer within the connect timeout",
            _ => null,
        });

    private static VsockAddress QueryName(SafeSocketHandle socket, VmciOperation operation, string? endpoint, bool peer)
    {
        Interop.SockaddrVm sa = default;
        int errno;
        do
        {
            var length = (uint)sizeof(Interop.SockaddrVm);
            errno = ErrnoOf(peer ? Interop.getpeername(socket, &sa, ref length) : Interop.getsockname(socket, &sa, ref length));
        }
        while (errno == Interop.EINTR);
        return errno != 0
            ? throw VmciError.FromErrno(errno, operation, endpoint, peer ? "getpeername" : "getsockname")
            : sa.Address;
    }

    /// <summary>The errno of a call that returned <paramref name="rc"/> (0 or -1): 0 on success.</summary>
    private static int ErrnoOf(int rc) => rc == 0 ? 0 : Interop.LastErrno;
}
