using NetMQ;

namespace Vmci.Transport.Internal;

/// <summary>
/// The one mapping from <see cref="VmciException"/> to the exception NetMQ itself would throw for the same
/// errno. The NetMQ exception carries the vmci message (operation, endpoint, errno name, rule) and the
/// <see cref="VmciException"/> as its inner exception, so <c>((VmciException)e.InnerException).Errno</c> is the errno.
/// </summary>
internal static class NetMQErrors
{
    /// <summary>Maps <paramref name="exception"/>; see docs/transport.md for the table.</summary>
    public static NetMQException ToNetMQ(VmciException exception)
    {
        var message = exception.Message;
        return ToErrorCode(exception.Errno) switch
        {
            ErrorCode.EndpointNotFound => new EndpointNotFoundException(exception, message),
            ErrorCode.AddressAlreadyInUse => new AddressAlreadyInUseException(exception, message),
            ErrorCode.ContextTerminated => new TerminatingException(message),
            ErrorCode.Invalid => new InvalidException(exception, message),
            var code => NetMQException.Create(message, code) is var e && e.GetType() == typeof(NetMQException)
                ? new Wrapped(exception, message, code)
                : e,
        };
    }

    /// <summary>The NetMQ error code for an errno (the table in docs/transport.md).</summary>
    public static ErrorCode ToErrorCode(Errno errno) => errno switch
    {
        Errno.ENOENT => ErrorCode.EndpointNotFound,
        Errno.EADDRINUSE => ErrorCode.AddressAlreadyInUse,
        Errno.EADDRNOTAVAIL or Errno.ENODEV => ErrorCode.AddressNotAvailable,
        Errno.EPROTONOSUPPORT => ErrorCode.ProtocolNotSupported,
        Errno.EAFNOSUPPORT => ErrorCode.AddressFamilyNotSupported,
        Errno.EACCES => ErrorCode.AccessDenied,
        Errno.EAGAIN => ErrorCode.TryAgain,
        Errno.ENETUNREACH => ErrorCode.NetworkUnreachable,
        Errno.EHOSTUNREACH => ErrorCode.HostUnreachable,
        Errno.ECONNREFUSED => ErrorCode.ConnectionRefused,
        Errno.ECONNRESET => ErrorCode.ConnectionReset,
        Errno.ECONNABORTED => ErrorCode.ConnectionAborted,
        Errno.ETIMEDOUT => ErrorCode.TimedOut,
        Errno.ENOTCONN => ErrorCode.NotConnected,
        Errno.EMFILE => ErrorCode.TooManyOpenSockets,
        Errno.EBADF or Errno.ECANCELED => ErrorCode.ContextTerminated,
        // EINVAL, ERANGE, ENOPROTOOPT, EOPNOTSUPP, EPIPE, EIO, EINTR: NetMQ's invalid-argument family.
        _ => ErrorCode.Invalid,
    };

    /// <summary>Runs <paramref name="action"/>, rethrowing a <see cref="VmciException"/> as its NetMQ exception.</summary>
    public static T Translate<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (VmciException e)
        {
            throw ToNetMQ(e);
        }
    }

    /// <summary>A plain <see cref="NetMQException"/> that keeps the <see cref="VmciException"/> as its inner exception.</summary>
    private sealed class Wrapped(Exception inner, string message, ErrorCode code) : NetMQException(inner, message, code);
}
