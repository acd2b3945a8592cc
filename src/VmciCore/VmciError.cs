using System.Net.Sockets;

namespace Vmci;

/// <summary>
/// The one error mapping of the project (mdlayher/vsock's <c>opError</c>): every failure — a parser rule, a native
/// errno, a .NET <see cref="SocketException"/>, an <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>
/// from the file system, a cancellation — becomes a <see cref="VmciException"/> here, with the operation, the endpoint,
/// the errno name and the rule broken in its message. Backends and tools never build a <see cref="VmciException"/>
/// any other way, so the same event gives the same errno everywhere.
/// </summary>
public static class VmciError
{
    /// <summary>Builds the exception for <paramref name="errno"/> raised by <paramref name="operation"/> on <paramref name="endpoint"/>.</summary>
    /// <param name="errno">What went wrong.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="endpoint">The endpoint, address or path concerned, or null.</param>
    /// <param name="detail">The rule that was broken, in words; null to use the errno's own description only.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public static VmciException Create(Errno errno, VmciOperation operation, string? endpoint, string? detail = null, Exception? inner = null)
    {
        var name = Name(operation);
        var where = endpoint is null ? name : $"{name} '{endpoint}'";
        var message = $"{where}: {errno} ({Describe(errno)})" + (detail is null ? "" : $": {detail}");
        return new VmciException(errno, operation, endpoint, message, inner);
    }

    /// <summary>Maps a native Linux errno number, as a system call left it.</summary>
    /// <param name="errno">The errno number; one this project does not know becomes EIO, with the number in the message.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="endpoint">The endpoint, address or path concerned, or null.</param>
    /// <param name="detail">The rule that was broken, in words, or null.</param>
    public static VmciException FromErrno(int errno, VmciOperation operation, string? endpoint, string? detail = null) =>
        Enum.IsDefined((Errno)errno)
            ? Create((Errno)errno, operation, endpoint, detail)
            : Create(Errno.EIO, operation, endpoint, detail is null ? $"errno {errno}" : $"{detail} (errno {errno})");

    /// <summary>
    /// Maps any exception an operation ended with. A <see cref="VmciException"/> is returned unchanged; a cancellation is
    /// ECANCELED; a closed socket or file (<see cref="ObjectDisposedException"/>, an aborted socket operation) is EBADF; a
    /// <see cref="SocketException"/> its errno; <see cref="UnauthorizedAccessException"/> EACCES; a missing file or
    /// directory ENOENT; an <see cref="IOException"/> the errno .NET kept in its HResult; anything else EIO.
    /// </summary>
    /// <param name="exception">What the operation threw.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="endpoint">The endpoint, address or path concerned, or null.</param>
    /// <param name="detail">The rule that was broken, in words, or null for the exception's own account.</param>
    public static VmciException From(Exception exception, VmciOperation operation, string? endpoint, string? detail = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            VmciException v => v,
            OperationCanceledException => Create(Errno.ECANCELED, operation, endpoint, detail ?? "cancelled", exception),
            ObjectDisposedException => Create(Errno.EBADF, operation, endpoint, detail ?? "the socket is closed", exception),
            SocketException { SocketErrorCode: SocketError.OperationAborted } =>
                Create(Errno.EBADF, operation, endpoint, detail ?? "the socket was closed during the operation", exception),
            SocketException s => Create(ToErrno(s.SocketErrorCode), operation, endpoint, detail, exception),
            UnauthorizedAccessException => Create(Errno.EACCES, operation, endpoint, detail ?? exception.Message, exception),
            FileNotFoundException or DirectoryNotFoundException => Create(Errno.ENOENT, operation, endpoint, detail ?? exception.Message, exception),
            PathTooLongException => Create(Errno.ENAMETOOLONG, operation, endpoint, detail ?? exception.Message, exception),
            IOException io when io.HResult > 0 && Enum.IsDefined((Errno)io.HResult) =>
                Create((Errno)io.HResult, operation, endpoint, detail ?? exception.Message, exception),
            _ => Create(Errno.EIO, operation, endpoint, detail ?? exception.Message, exception),
        };
    }

    /// <summary>The errno that a .NET <see cref="SocketError"/> stands for (unknown codes: EIO).</summary>
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
        SocketError.OperationAborted => Errno.EBADF,
        SocketError.Interrupted => Errno.EINTR,
        SocketError.WouldBlock => Errno.EAGAIN,
        SocketError.TooManyOpenSockets => Errno.EMFILE,
        SocketError.OperationNotSupported => Errno.EOPNOTSUPP,
        SocketError.NoBufferSpaceAvailable => Errno.ENOBUFS,
        SocketError.MessageSize => Errno.EMSGSIZE,
        SocketError.NotSocket => Errno.EBADF,
        _ => Errno.EIO,
    };

    /// <summary>The name of an operation in messages: <c>bind</c>, <c>connect</c>, <c>getsockopt</c>, <c>open fabric</c>, …</summary>
    public static string Name(VmciOperation operation) => operation switch
    {
        VmciOperation.GetOption => "getsockopt",
        VmciOperation.SetOption => "setsockopt",
        VmciOperation.GetLocalCid => "get local cid",
        VmciOperation.OpenFabric => "open fabric",
        VmciOperation.JoinFabric => "join fabric",
        VmciOperation.ChangeFabric => "change fabric",
        VmciOperation.StartDevice => "start vhost-user device",
        VmciOperation.VhostUser => "vhost-user",
        VmciOperation.VirtioVsock => "virtio-vsock",
        _ => operation.ToString().ToLowerInvariant(),
    };

    /// <summary>The description of an errno, as strerror(3) gives it on Linux.</summary>
    public static string Describe(Errno errno) => errno switch
    {
        Errno.EPERM => "Operation not permitted",
        Errno.ENOENT => "No such file or directory",
        Errno.EINTR => "Interrupted system call",
        Errno.EIO => "Input/output error",
        Errno.EBADF => "Bad file descriptor",
        Errno.EAGAIN => "Resource temporarily unavailable",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.EACCES => "Permission denied",
        Errno.EEXIST => "File exists",
        Errno.ENODEV => "No such device",
        Errno.ENOTDIR => "Not a directory",
        Errno.EISDIR => "Is a directory",
        Errno.EINVAL => "Invalid argument",
        Errno.ENFILE => "Too many open files in system",
        Errno.EMFILE => "Too many open files",
        Errno.ENOSPC => "No space left on device",
        Errno.EPIPE => "Broken pipe",
        Errno.ERANGE => "Numerical result out of range",
        Errno.ENAMETOOLONG => "File name too long",
        Errno.ELOOP => "Too many levels of symbolic links",
        Errno.EPROTO => "Protocol error",
        Errno.EMSGSIZE => "Message too long",
        Errno.ENOPROTOOPT => "Protocol not available",
        Errno.EPROTONOSUPPORT => "Protocol not supported",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.EAFNOSUPPORT => "Address family not supported by protocol",
        Errno.EADDRINUSE => "Address already in use",
        Errno.EADDRNOTAVAIL => "Cannot assign requested address",
        Errno.ENETUNREACH => "Network is unreachable",
        Errno.ECONNABORTED => "Software caused connection abort",
        Errno.ECONNRESET => "Connection reset by peer",
        Errno.ENOBUFS => "No buffer space available",
        Errno.ENOTCONN => "Transport endpoint is not connected",
        Errno.ETIMEDOUT => "Connection timed out",
        Errno.ECONNREFUSED => "Connection refused",
        Errno.EHOSTUNREACH => "No route to host",
        Errno.ECANCELED => "Operation canceled",
        _ => errno.ToString(),
    };
}
