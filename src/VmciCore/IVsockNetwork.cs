namespace Vmci;

/// <summary>
/// The backend seam: what a "vsock network" offers. The Linux kernel backend (AF_VSOCK) and the simulator
/// (VmciSim, over Unix domain sockets) implement exactly this, with the same observable errors
/// (SPEC §5); everything above it — the NetMQ relay, the conformance suite, the tools — is written once.
/// </summary>
public interface IVsockNetwork
{
    /// <summary>A short name for reports: <c>vsock</c> or <c>sim</c>.</summary>
    string Name { get; }

    /// <summary>The local CID (what <c>@</c> resolves to).</summary>
    /// <exception cref="VmciException">ENODEV when this machine has no context ID.</exception>
    uint GetLocalCid();

    /// <summary>Binds <paramref name="address"/> and listens. Errors are reported here, synchronously.</summary>
    /// <param name="address">The address to bind: CID any or local, port any (ephemeral) or a number.</param>
    /// <param name="options">Socket options set before bind; accepted connections inherit them. Null: kernel defaults.</param>
    /// <param name="backlog">The listen backlog.</param>
    /// <returns>A listener whose <see cref="IVsockListener.LocalAddress"/> is the real bound address.</returns>
    /// <exception cref="VmciException">EADDRNOTAVAIL, EADDRINUSE, EACCES, EINVAL, ENODEV, EAFNOSUPPORT.</exception>
    IVsockListener Listen(VsockAddress address, VsockOptions? options = null, int backlog = 128);

    /// <summary>Connects to <paramref name="remote"/> on a fresh socket.</summary>
    /// <param name="remote">The peer's CID and port.</param>
    /// <param name="options">Socket options set before connecting, including the connect timeout. Null: kernel defaults.</param>
    /// <param name="cancellationToken">Abandons the attempt (ECANCELED).</param>
    /// <exception cref="VmciException">ECONNRESET (nobody listens), ENODEV, ENETUNREACH, ETIMEDOUT, ECANCELED.</exception>
    ValueTask<IVsockConnection> ConnectAsync(VsockAddress remote, VsockOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>A bound, listening vsock socket. Disposing it closes it and frees its port.</summary>
public interface IVsockListener : IDisposable
{
    /// <summary>The real bound address (getsockname): the ephemeral port filled in, the CID as bound.</summary>
    VsockAddress LocalAddress { get; }

    /// <summary>Waits for the next connection.</summary>
    /// <exception cref="VmciException">EBADF once disposed; ECANCELED when cancelled.</exception>
    ValueTask<IVsockConnection> AcceptAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A connected vsock stream: ordered bytes both ways, half-close. Disposing it closes it (the peer reads end of
/// stream, then EPIPE on send); <see cref="Abort"/> closes it at once without waiting for a graceful shutdown.
/// </summary>
public interface IVsockConnection : IDisposable
{
    /// <summary>
    /// This end's address (getsockname). An accepted connection reports the address it was reached at; a connecting
    /// socket reports CID ANY and its own ephemeral port (what Linux reports; the peer sees the real CID).
    /// </summary>
    VsockAddress LocalAddress { get; }

    /// <summary>The peer's address (getpeername).</summary>
    VsockAddress RemoteAddress { get; }

    /// <summary>Receives at most <paramref name="buffer"/>.Length bytes; 0 means the peer shut down its sending side.</summary>
    /// <exception cref="VmciException">ECONNRESET when the connection was reset (on the simulator: the peer closed with unread data).</exception>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Sends every byte of <paramref name="buffer"/>, waiting while the peer's buffer is full.</summary>
    /// <exception cref="VmciException">EPIPE after <see cref="ShutdownSend"/> or once the peer closed; ECONNRESET when the connection was reset.</exception>
    ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Half-close: the peer reads end of stream; this end can still receive.</summary>
    void ShutdownSend();

    /// <summary>
    /// Closes at once. Linux vsock has no user-triggered reset on an established stream: the peer reads end of
    /// stream, then gets EPIPE on send (observed in the QEMU guest; the simulator does the same).
    /// </summary>
    void Abort();

    /// <summary>Reads a socket option back (getsockopt at level AF_VSOCK).</summary>
    /// <returns>Buffer options in bytes; <see cref="VsockOption.ConnectTimeout"/> in milliseconds.</returns>
    ulong GetOption(VsockOption option);

    /// <summary>Sets a socket option (setsockopt at level AF_VSOCK), with the kernel's clamping.</summary>
    /// <param name="option">The option.</param>
    /// <param name="value">Buffer options in bytes; <see cref="VsockOption.ConnectTimeout"/> in milliseconds.</param>
    void SetOption(VsockOption option, ulong value);
}
