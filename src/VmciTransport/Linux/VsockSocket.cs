using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vmci.Transport.Linux;

/// <summary>
/// The native side of one AF_VSOCK socket: creating it, its addresses and its level-40 options. Every errno goes
/// through <see cref="VmciError"/>; EINTR is retried.
/// </summary>
internal static class VsockSocket
{
    private const string NotLinux = "kernel vsock (AF_VSOCK) exists only on Linux; this OS is not supported (use the simulator backend)";

    /// <summary>Throws the clear "not supported on this OS" error when not on Linux.</summary>
    internal static void EnsureLinux(string operation, string? endpoint)
    {
        if (!OperatingSystem.IsLinux())
            throw VmciError.Create(Errno.EAFNOSUPPORT, operation, endpoint, NotLinux);
    }

    /// <summary>A fresh AF_VSOCK stream socket (close-on-exec), wrapped for async I/O.</summary>
    /// <exception cref="VmciException">EAFNOSUPPORT when the kernel has no AF_VSOCK (module vsock not loaded).</exception>
    internal static Socket Create(string operation, string? endpoint)
    {
        EnsureLinux(operation, endpoint);
        SafeSocketHandle handle;
        int errno;
        do
        {
            handle = Interop.socket(Interop.AF_VSOCK, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC, 0);
            errno = handle.IsInvalid ? Interop.LastErrno : 0;
        }
        while (errno == Interop.EINTR);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw VmciError.FromErrno(errno, operation, endpoint,
                errno == (int)Errno.EAFNOSUPPORT ? "this kernel has no AF_VSOCK (load the vsock module and a transport)" : null);
        }
        try
        {
            return new Socket(handle);
        }
        catch (SocketException e)
        {
            handle.Dispose();
            throw Error(e, operation, endpoint);
        }
    }

    /// <summary>
    /// Maps a <see cref="SocketException"/>. .NET knows the common errnos; for the others (ENODEV from connect, …) it
    /// reports <see cref="SocketError.SocketError"/> and keeps only strerror's text, so the errno is recovered by
    /// matching that text against strerror of each errno this project knows.
    /// </summary>
    internal static VmciException Error(SocketException e, string operation, string? endpoint, string? detail = null)
    {
        if (VmciError.ToErrno(e.SocketErrorCode) != Errno.EIO)
            return VmciError.FromSocketException(e, operation, endpoint, detail);
        if (Enum.IsDefined((Errno)e.NativeErrorCode))
            return VmciError.Create((Errno)e.NativeErrorCode, operation, endpoint, detail, e);
        foreach (var errno in Enum.GetValues<Errno>())
        {
            if (string.Equals(Marshal.GetPInvokeErrorMessage((int)errno), e.Message, StringComparison.Ordinal))
                return VmciError.Create(errno, operation, endpoint, detail, e);
        }
        return VmciError.FromSocketException(e, operation, endpoint, detail ?? e.Message);
    }

    /// <summary>
    /// The errno of a connect that .NET reported as an unknown error (it drops errnos such as ENODEV): a non-blocking
    /// connect on a fresh probe socket fails the same way at once (transport assignment happens before any wait).
    /// </summary>
    internal static unsafe Errno? ProbeConnectErrno(VsockAddress remote)
    {
        using var probe = Interop.socket(Interop.AF_VSOCK, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC | Interop.SOCK_NONBLOCK, 0);
        if (probe.IsInvalid)
            return null;
        byte* address = stackalloc byte[VsockEndPoint.Size];
        new VsockEndPoint(remote).Write(new Span<byte>(address, VsockEndPoint.Size));
        int rc;
        do
            rc = Interop.connect(probe, address, VsockEndPoint.Size);
        while (rc < 0 && Interop.LastErrno == Interop.EINTR);
        var errno = rc < 0 ? Interop.LastErrno : 0;
        return rc < 0 && Enum.IsDefined((Errno)errno) ? (Errno)errno : null;
    }

    /// <summary>getsockname.</summary>
    internal static VsockAddress LocalAddress(Socket socket, string operation, string? endpoint) =>
        QueryName(socket, operation, endpoint, peer: false);

    /// <summary>getpeername.</summary>
    internal static VsockAddress RemoteAddress(Socket socket, string operation, string? endpoint) =>
        QueryName(socket, operation, endpoint, peer: true);

    private static unsafe VsockAddress QueryName(Socket socket, string operation, string? endpoint, bool peer)
    {
        byte* buffer = stackalloc byte[VsockEndPoint.Size];
        int rc;
        uint length;
        do
        {
            length = VsockEndPoint.Size;
            rc = peer
                ? Interop.getpeername(socket.SafeHandle, buffer, ref length)
                : Interop.getsockname(socket.SafeHandle, buffer, ref length);
        }
        while (rc < 0 && Interop.LastErrno == Interop.EINTR);
        return rc < 0
            ? throw VmciError.FromErrno(Interop.LastErrno, operation, endpoint, peer ? "getpeername" : "getsockname")
            : VsockEndPoint.Read(new ReadOnlySpan<byte>(buffer, VsockEndPoint.Size)).Address;
    }

    /// <summary>Applies <paramref name="options"/> in their order (max, min, size, timeout).</summary>
    internal static void Apply(Socket socket, VsockOptions? options, string? endpoint)
    {
        if (options is null)
            return;
        foreach (var (option, value) in options.InApplyOrder())
            SetOption(socket, option, value, endpoint);
    }

    /// <summary>setsockopt at level AF_VSOCK: buffer sizes as u64, the connect timeout as a struct timeval {s, µs}.</summary>
    internal static unsafe void SetOption(Socket socket, VsockOption option, ulong value, string? endpoint)
    {
        int rc;
        if (option == VsockOption.ConnectTimeout)
        {
            if (value > long.MaxValue / 1000)
                throw VmciError.Create(Errno.ERANGE, "setsockopt", endpoint, $"connect timeout {value} ms does not fit a timeval");
            var tv = new Interop.Timeval { tv_sec = (long)(value / 1000), tv_usec = (long)(value % 1000 * 1000) };
            do
                rc = Interop.setsockopt(socket.SafeHandle, Interop.AF_VSOCK, (int)option, &tv, (uint)sizeof(Interop.Timeval));
            while (rc < 0 && Interop.LastErrno == Interop.EINTR);
        }
        else
        {
            do
                rc = Interop.setsockopt(socket.SafeHandle, Interop.AF_VSOCK, (int)option, &value, sizeof(ulong));
            while (rc < 0 && Interop.LastErrno == Interop.EINTR);
        }
        if (rc < 0)
            throw VmciError.FromErrno(Interop.LastErrno, "setsockopt", endpoint, $"option {option} ({(int)option}) = {value}");
    }

    /// <summary>getsockopt at level AF_VSOCK; the connect timeout comes back in milliseconds.</summary>
    internal static unsafe ulong GetOption(Socket socket, VsockOption option, string? endpoint)
    {
        int rc;
        ulong result;
        if (option == VsockOption.ConnectTimeout)
        {
            var tv = default(Interop.Timeval);
            uint length;
            do
            {
                length = (uint)sizeof(Interop.Timeval);
                rc = Interop.getsockopt(socket.SafeHandle, Interop.AF_VSOCK, (int)option, &tv, ref length);
            }
            while (rc < 0 && Interop.LastErrno == Interop.EINTR);
            result = (ulong)tv.tv_sec * 1000 + (ulong)tv.tv_usec / 1000;
        }
        else
        {
            ulong value = 0;
            uint length;
            do
            {
                length = sizeof(ulong);
                rc = Interop.getsockopt(socket.SafeHandle, Interop.AF_VSOCK, (int)option, &value, ref length);
            }
            while (rc < 0 && Interop.LastErrno == Interop.EINTR);
            result = value;
        }
        return rc < 0 ? throw VmciError.FromErrno(Interop.LastErrno, "getsockopt", endpoint, $"option {option} ({(int)option})") : result;
    }
}
