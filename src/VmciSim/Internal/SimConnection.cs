using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// A simulated vsock stream: the Unix domain socket itself, after the handshake. Bytes go straight through the
/// kernel's UDS (no copy layer); only errors are translated. Close, abort and death of the peer look as on Linux
/// vsock: end of stream, then EPIPE on send (vsock has no reset that user space can send once connected).
/// </summary>
internal sealed partial class SimConnection : IVsockConnection, IVsockDetachable, IVsockTrafficGate
{
    private readonly Socket _socket;
    private readonly VsockBufferModel _options;
    private bool _sendShutdown;
    private int _disposed;
    private int _detached;

    /// <param name="socket">The UDS, after the handshake.</param>
    /// <param name="local">getsockname: a connecting socket's CID is any (the kernel auto-binds it to (any, port)).</param>
    /// <param name="remote">getpeername.</param>
    /// <param name="options">This socket's options.</param>
    /// <param name="faults">The fabric's faults in this process.</param>
    /// <param name="machine">This end's machine CID.</param>
    /// <param name="peerMachine">The other end's machine CID.</param>
    /// <param name="accepted">True for the accepting end (its local port is the service's), false for the connecting end.</param>
    public SimConnection(Socket socket, VsockAddress local, VsockAddress remote, VsockBufferModel options, FaultState faults, uint machine, uint peerMachine, bool accepted)
    {
        _service = accepted ? new VsockAddress(machine, local.Port) : new VsockAddress(peerMachine, remote.Port);
        _socket = socket;
        LocalAddress = local;
        RemoteAddress = remote;
        _options = options;
        _faults = faults;
        _machine = machine;
        _peerMachine = peerMachine;
        _createdUtc = DateTime.UtcNow;
        faults.Register(this);
    }

    public VsockAddress LocalAddress { get; }

    /// <summary>The Unix socket (a vhost-user device probes whether the peer closed it or only half-closed it).</summary>
    internal SafeSocketHandle SocketHandle => _socket.SafeHandle;

    public VsockAddress RemoteAddress { get; }

    private string Endpoint => RemoteAddress.ToString();

    /// <summary>
    /// The Unix domain socket itself. The connection stays registered for the faults that shut it down (reset, CID change)
    /// until it is disposed, and remains the traffic gate (<see cref="IVsockTrafficGate"/>) for the faults on bytes.
    /// </summary>
    public bool TryDetachSocket([NotNullWhen(true)] out Socket? socket)
    {
        socket = null;
        if (Volatile.Read(ref _disposed) != 0 || _resetBy is not null)
            return false;
        if (Interlocked.Exchange(ref _detached, 1) != 0)
            return false;
        socket = _socket;
        return true;
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _detached) != 0)
            return ValueTask.FromException<int>(ClosedError(VmciOperation.Receive));
        if (_faults.Active || _resetBy is not null)
            return ReceiveWithFaultsAsync(buffer, cancellationToken);
        ValueTask<int> pending;
        try
        {
            pending = _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(Translate(e, VmciOperation.Receive));
        }
        if (!pending.IsCompletedSuccessfully)
            return AwaitReceive(pending);
        var read = pending.Result;
        return read == 0 && _resetBy is { } fault ? ValueTask.FromException<int>(ResetError(fault, VmciOperation.Receive, null)) : ValueTask.FromResult(read);
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_sendShutdown)
            throw VmciError.Create(Errno.EPIPE, VmciOperation.Send, Endpoint, "this end shut down its sending side");
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _detached) != 0)
            throw ClosedError(VmciOperation.Send);
        if (_faults.Active || _resetBy is not null)
        {
            await SendWithFaultsAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (Exception e)
        {
            throw Translate(e, VmciOperation.Send);
        }
    }

    public void ShutdownSend()
    {
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _detached) != 0)
            throw ClosedError(VmciOperation.Shutdown);
        _sendShutdown = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected)
        {
            // The peer is already gone; shutting down our side is still a success, as on vsock.
        }
    }

    /// <summary>
    /// Shuts down the receiving side (a vhost-user device, after its guest sent SHUTDOWN with "no more receive"): the
    /// peer's later sends fail with EPIPE, as a vsock sender's do once the other side shut down receiving.
    /// </summary>
    internal void ShutdownReceive()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// As on Linux vsock, where an established connection has no reset that user space can send (the transport's
    /// RST only marks the peer shut down): the peer reads end of stream, then gets EPIPE on send.
    /// </summary>
    public void Abort() => Dispose();

    public ulong GetOption(VsockOption option) => _options.Get(option);

    public void SetOption(VsockOption option, ulong value) => _options.Set(option, value);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _faults.Unregister(this);
        if (Volatile.Read(ref _detached) == 0)
            _socket.Dispose();
        SignalClosed();
    }

    private VmciException ClosedError(VmciOperation operation) => Volatile.Read(ref _detached) != 0
        ? VmciError.Create(Errno.EBADF, operation, Endpoint, "the socket was handed over (TryDetachSocket); its new owner does the I/O")
        : VmciError.Create(Errno.EBADF, operation, Endpoint, "the connection is closed");

    private async ValueTask<int> AwaitReceive(ValueTask<int> pending)
    {
        try
        {
            var read = await pending.ConfigureAwait(false);
            if (read == 0)
                ThrowIfReset();
            return read;
        }
        catch (Exception e)
        {
            throw Translate(e, VmciOperation.Receive);
        }
    }

    private VmciException Translate(Exception e, VmciOperation operation) =>
        e is not VmciException && _resetBy is { } fault ? ResetError(fault, operation, e) : VmciError.From(e, operation, Endpoint);
}
