namespace Vmci;

/// <summary>
/// The errno values this project reports, with their Linux numbers. A <see cref="VmciException"/> always carries one.
/// </summary>
public enum Errno
{
    /// <summary>Operation not permitted.</summary>
    EPERM = 1,
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
    /// <summary>Out of memory.</summary>
    ENOMEM = 12,
    /// <summary>Permission denied (privileged port, or a fabric the caller does not own).</summary>
    EACCES = 13,
    /// <summary>File exists.</summary>
    EEXIST = 17,
    /// <summary>No such device: no vsock transport for the CID, or no local CID.</summary>
    ENODEV = 19,
    /// <summary>Not a directory (a fabric path whose parent is a file).</summary>
    ENOTDIR = 20,
    /// <summary>Is a directory (a directory where a fabric file should be).</summary>
    EISDIR = 21,
    /// <summary>Invalid argument (malformed endpoint, bad option length, listen without bind).</summary>
    EINVAL = 22,
    /// <summary>Too many open files in the system.</summary>
    ENFILE = 23,
    /// <summary>Too many open files.</summary>
    EMFILE = 24,
    /// <summary>No space left on device.</summary>
    ENOSPC = 28,
    /// <summary>Broken pipe: sending after the connection was shut down.</summary>
    EPIPE = 32,
    /// <summary>Result out of range (connect timeout that a timeval cannot hold).</summary>
    ERANGE = 34,
    /// <summary>File name too long (a socket path longer than sun_path).</summary>
    ENAMETOOLONG = 36,
    /// <summary>Too many levels of symbolic links (a link where the simulator refuses one).</summary>
    ELOOP = 40,
    /// <summary>Protocol error: a peer broke the wire protocol.</summary>
    EPROTO = 71,
    /// <summary>Message too long.</summary>
    EMSGSIZE = 90,
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
    /// <summary>No buffer space available.</summary>
    ENOBUFS = 105,
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
