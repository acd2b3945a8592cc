using System.Net.Sockets;

namespace Vmci;

/// <summary>
/// The one error mapping of the project: every failure, from a parser rule, a native errno or a .NET
/// <see cref="SocketException"/>, becomes a <see cref="VmciException"/> here, with the operation, the
/// endpoint and the errno name in its message.
/// </summary>
public static class VmciError
{
    /// <summary>Builds the exception for <paramref name="errno"/> raised by <paramref name="operation"/> on <paramref name="endpoint"/>.</summary>
    /// <param name="errno">What went wrong.</param>
    /// <param name="operation">The operation, for example <c>bind</c>.</param>
    /// <param name="endpoint">The endpoint or address concerned, or null.</param>
    /// <param name="detail">The rule that was broken, in words; null to use the errno's own description.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public static VmciException Create(Errno errno, string operation, string? endpoint, string? detail = null, Exception? inner = null)
    {
        var where = endpoint is null ? operation : $"{operation} '{endpoint}'";
        var message = $"{where}: {errno} ({Describe(errno)})" + (detail is null ? "" : $": {detail}");
        return new VmciException(errno, operation, endpoint, message, inner);
    }

    /// <summary>Maps a native Linux errno number.</summary>
    public static VmciException FromErrno(int errno, string operation, string? endpoint, string? detail = null) =>
        Create(Enum.IsDefined((Errno)errno) ? (Errno)errno : Errno.EIO, operation, endpoint,
            detail ?? (Enum.IsDefined((Errno)errno) ? null : $"errno {errno}"));

    /// <summary>Maps a .NET socket exception (from a Unix domain or vsock socket).</summary>
    public static VmciException FromSocketException(SocketException exception, string operation, string? endpoint, string? detail = null) =>
        Create(ToErrno(exception.SocketErrorCode), operation, endpoint, detail, exception);

    /// <summary>The errno that a .NET <see cref="SocketError"/> stands for.</summary>
    public static Errno ToErrno(SocketError error) => error switch
    {
        SocketError.ConnectionReset => Errno.ECONNRESET,
        SocketError.ConnectionRefused => Errno.ECONNREFUSED,
        SocketError.ConnectionAborted => Errno.ECONNABORTED,
        SocketError.AddressAlreadyInUse => Errno.EADDRINUSE,
        SocketError.AddressNotAvailable => Errno.EADDRNOTAVAIL,
        SocketError.AddressFamilyNotSupported => Errno.EAFNOSUPPORT,
        SocketError.ProtocolNotSupported => Errno.EPROTONOSUPPORT,
        SocketError.ProtocolOption => Errno.ENOPROTOOPT,
        SocketError.AccessDenied => Errno.EACCES,
        SocketError.InvalidArgument => Errno.EINVAL,
        SocketError.TimedOut => Errno.ETIMEDOUT,
        SocketError.NetworkUnreachable => Errno.ENETUNREACH,
        SocketError.HostUnreachable => Errno.EHOSTUNREACH,
        SocketError.NotConnected => Errno.ENOTCONN,
        SocketError.Shutdown => Errno.EPIPE,
        SocketError.OperationAborted => Errno.ECANCELED,
        SocketError.Interrupted => Errno.EINTR,
        SocketError.WouldBlock => Errno.EAGAIN,
        SocketError.TooManyOpenSockets => Errno.EMFILE,
        SocketError.OperationNotSupported => Errno.EOPNOTSUPP,
        SocketError.NoBufferSpaceAvailable => Errno.EAGAIN,
        SocketError.NotSocket => Errno.EBADF,
        _ => Errno.EIO,
    };

    /// <summary>The description of an errno, as strerror(3) gives it on Linux.</summary>
    public static string Describe(Errno errno) => errno switch
    {
        Errno.ENOENT => "No such file or directory",
        Errno.EINTR => "Interrupted system call",
        Errno.EIO => "Input/output error",
        Errno.EBADF => "Bad file descriptor",
        Errno.EAGAIN => "Resource temporarily unavailable",
        Errno.EACCES => "Permission denied",
        Errno.ENODEV => "No such device",
        Errno.EINVAL => "Invalid argument",
        Errno.EMFILE => "Too many open files",
        Errno.EPIPE => "Broken pipe",
        Errno.ERANGE => "Numerical result out of range",
        Errno.ENOPROTOOPT => "Protocol not available",
        Errno.EPROTONOSUPPORT => "Protocol not supported",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.EAFNOSUPPORT => "Address family not supported by protocol",
        Errno.EADDRINUSE => "Address already in use",
        Errno.EADDRNOTAVAIL => "Cannot assign requested address",
        Errno.ENETUNREACH => "Network is unreachable",
        Errno.ECONNABORTED => "Software caused connection abort",
        Errno.ECONNRESET => "Connection reset by peer",
        Errno.ENOTCONN => "Transport endpoint is not connected",
        Errno.ETIMEDOUT => "Connection timed out",
        Errno.ECONNREFUSED => "Connection refused",
        Errno.EHOSTUNREACH => "No route to host",
        Errno.ECANCELED => "Operation canceled",
        _ => errno.ToString(),
    };
}
