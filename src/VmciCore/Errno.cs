namespace Vmci;

/// <summary>
/// The errno values this project reports, with their Linux numbers. A <see cref="VmciException"/> always carries one.
/// </summary>
public enum Errno
{
    /// <summary>No such file or directory; for endpoints: no such endpoint is bound or connected.</summary>
    ENOENT = 2,
    /// <summary>Interrupted system call.</summary>
    EINTR = 4,
    /// <summary>Input/output error.</summary>
    EIO = 5,
    /// <summary>Bad file descriptor (the socket was closed).</summary>
    EBADF = 9,
    /// <summary>Resource temporarily unavailable.</summary>
    EAGAIN = 11,
    /// <summary>Permission denied (privileged port, or a fabric the caller does not own).</summary>
    EACCES = 13,
    /// <summary>No such device: no vsock transport for the CID, or no local CID.</summary>
    ENODEV = 19,
    /// <summary>Invalid argument (malformed endpoint, bad option length, listen without bind).</summary>
    EINVAL = 22,
    /// <summary>Too many open files.</summary>
    EMFILE = 24,
    /// <summary>Broken pipe: sending after the connection was shut down.</summary>
    EPIPE = 32,
    /// <summary>Result out of range (connect timeout that a timeval cannot hold).</summary>
    ERANGE = 34,
    /// <summary>Protocol not available: an unknown socket option.</summary>
    ENOPROTOOPT = 92,
    /// <summary>Protocol not supported: an endpoint scheme other than vmci.</summary>
    EPROTONOSUPPORT = 93,
    /// <summary>Operation not supported.</summary>
    EOPNOTSUPP = 95,
    /// <summary>Address family not supported: this OS has no AF_VSOCK.</summary>
    EAFNOSUPPORT = 97,
    /// <summary>Address already in use.</summary>
    EADDRINUSE = 98,
    /// <summary>Cannot assign requested address: the CID is not local, or no ephemeral port is left.</summary>
    EADDRNOTAVAIL = 99,
    /// <summary>Network is unreachable: the transport's policy refused the connection.</summary>
    ENETUNREACH = 101,
    /// <summary>Software caused connection abort.</summary>
    ECONNABORTED = 103,
    /// <summary>Connection reset by peer; on vsock also "nobody listens on that port".</summary>
    ECONNRESET = 104,
    /// <summary>The socket is not connected.</summary>
    ENOTCONN = 107,
    /// <summary>Connection timed out.</summary>
    ETIMEDOUT = 110,
    /// <summary>Connection refused.</summary>
    ECONNREFUSED = 111,
    /// <summary>No route to host.</summary>
    EHOSTUNREACH = 113,
    /// <summary>Operation canceled.</summary>
    ECANCELED = 125,
}
