using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace Vmci;

/// <summary>
/// A connection whose bytes travel over one connected operating-system stream socket that it can hand over to an I/O
/// engine that drives a socket itself (the NetMQ transport's direct mode gives it to NetMQ's own stream engine). The
/// kernel backend's connections (an AF_VSOCK socket) and the simulator's (a Unix domain socket) implement it; a
/// connection that does not is used through <see cref="IVsockConnection"/> only.
/// </summary>
public interface IVsockDetachable
{
    /// <summary>
    /// Hands over the connected socket. On success the caller owns it and must dispose it; the connection no longer
    /// reads, writes, shuts down or closes it: its <see cref="IVsockConnection.ReceiveAsync"/>,
    /// <see cref="IVsockConnection.SendAsync"/> and <see cref="IVsockConnection.ShutdownSend"/> fail with EBADF, and its
    /// <see cref="IDisposable.Dispose"/> and <see cref="IVsockConnection.Abort"/> release the connection object only.
    /// Its addresses stay readable, and its options while the socket is open. A simulated connection stays reachable by
    /// the faults that shut a connection down (reset, CID change): they shut the handed-over socket down.
    /// </summary>
    /// <param name="socket">The connected stream socket (non-blocking or blocking, as the backend left it).</param>
    /// <returns>
    /// False, with <paramref name="socket"/> null, when the connection cannot hand it over now: it is closed or already
    /// handed over, or (simulator) a fault that acts on its bytes — latency, bandwidth, partition, pause — is configured
    /// for its pair of machines, so its bytes must keep going through <see cref="IVsockConnection.SendAsync"/> and
    /// <see cref="IVsockConnection.ReceiveAsync"/>, where faults apply.
    /// </returns>
    bool TryDetachSocket([NotNullWhen(true)] out Socket? socket);
}

/// <summary>
/// A listener that decides during the connection handshake, before the connector's connect succeeds, whether to take a
/// connection. A refused connector gets ECONNRESET, what a full backlog gives on Linux vsock. The simulator implements
/// it; the kernel completes connections before accept(2) and cannot (a caller closes an unwanted accepted connection).
/// </summary>
public interface IVsockAdmission
{
    /// <summary>
    /// Asked once per incoming connection, on the listener's own thread, before it is queued for accept: false refuses
    /// it with ECONNRESET. It must be fast and must not throw. <remarks>Defaults to null: every connection the backlog has
    /// room for is taken.</remarks>
    /// </summary>
    Func<bool>? Admit { get; set; }
}
