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
    /// False, with <paramref name="socket"/> null, when the connection cannot hand it over now (it is closed, reset or
    /// already handed over). A connection that is also an <see cref="IVsockTrafficGate"/> (the simulator's) expects its
    /// new owner to let each transfer through the gate.
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

/// <summary>
/// The traffic control of a connection whose socket was handed over (<see cref="IVsockDetachable"/>): the simulator's faults
/// that act on bytes — partition and pause stall both directions, latency and bandwidth delay bytes where they are
/// received. Whoever drives the handed-over socket lets each transfer through <see cref="DeliverAsync"/> while
/// <see cref="IsActive"/>. The kernel backend has none.
/// </summary>
public interface IVsockTrafficGate
{
    /// <summary>True while a fault acts on this connection's bytes; false: every transfer may be handed on at once. Cheap.</summary>
    bool IsActive { get; }

    /// <summary>Completes at the next change of the faults (then <see cref="IsActive"/> may have changed).</summary>
    Task Changed { get; }

    /// <summary>
    /// Completes when <paramref name="bytes"/> that just crossed the socket may be handed on: received bytes wait while the
    /// pair is stalled and for their latency and bandwidth share; sent bytes wait while the pair is stalled.
    /// </summary>
    /// <param name="bytes">How many bytes were transferred.</param>
    /// <param name="received">True for received bytes, false for sent ones.</param>
    /// <param name="cancellationToken">Abandons the wait.</param>
    /// <exception cref="VmciException">ECONNRESET when a fault reset the connection meanwhile; ECANCELED when cancelled.</exception>
    ValueTask DeliverAsync(int bytes, bool received, CancellationToken cancellationToken = default);
}
