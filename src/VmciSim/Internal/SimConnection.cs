using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// A simulated vsock stream: the Unix domain socket itself, after the handshake. Bytes go straight through the
/// kernel's UDS (no copy layer); only errors are translated. Peer close and peer death look as on Linux vsock:
/// end of stream, then EPIPE on send. <see cref="Abort"/> cannot be said in-band without framing the stream, so it
/// leaves a reset marker file in the peer's machine directory; the peer looks for it only when the stream ends or
/// fails (never on the data path) and then reports ECONNRESET.
/// </summary>
internal sealed class SimConnection : IVsockConnection
{
    private readonly Socket _socket;
    private readonly FabricLayout _layout;
    private readonly uint _machine;
    private readonly VsockBufferModel _options;
    private readonly VsockAddress _seenByPeer;
    private bool _sendShutdown;
    private bool _reset;
    private bool _markerConsumed;
    private int _disposed;

    /// <param name="socket">The UDS, after the handshake.</param>
    /// <param name="layout">The fabric.</param>
    /// <param name="machine">This end's machine.</param>
    /// <param name="local">getsockname: a connecting socket's CID is any (the kernel auto-binds it to (any, port)).</param>
    /// <param name="seenByPeer">This end's address as the peer's RemoteAddress shows it (names reset markers).</param>
    /// <param name="remote">getpeername.</param>
    /// <param name="options">This socket's options.</param>
    public SimConnection(Socket socket, FabricLayout layout, uint machine, VsockAddress local, VsockAddress seenByPeer, VsockAddress remote, VsockBufferModel options)
    {
        _socket = socket;
        _layout = layout;
        _machine = machine;
        LocalAddress = local;
        _seenByPeer = seenByPeer;
        RemoteAddress = remote;
        _options = options;
    }

    public VsockAddress LocalAddress { get; }

    public VsockAddress RemoteAddress { get; }

    private string Endpoint => RemoteAddress.ToString();

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_reset)
            return ValueTask.FromException<int>(VmciError.Create(Errno.ECONNRESET, "receive", Endpoint, "the peer reset the connection"));
        if (Volatile.Read(ref _disposed) != 0)
            return ValueTask.FromException<int>(VmciError.Create(Errno.EBADF, "receive", Endpoint, "the connection is closed"));
        ValueTask<int> pending;
        try
        {
            pending = _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(Translate(e, "receive"));
        }
        if (pending.IsCompletedSuccessfully)
        {
            var n = pending.Result;
            return n > 0 || buffer.IsEmpty ? new ValueTask<int>(n) : new ValueTask<int>(OnEndOfStream());
        }
        return AwaitReceive(pending, buffer.IsEmpty);
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_reset)
            throw VmciError.Create(Errno.ECONNRESET, "send", Endpoint, "the peer reset the connection");
        if (_sendShutdown)
            throw VmciError.Create(Errno.EPIPE, "send", Endpoint, "this end shut down its sending side");
        if (Volatile.Read(ref _disposed) != 0)
            throw VmciError.Create(Errno.EBADF, "send", Endpoint, "the connection is closed");
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
            throw Translate(e, "send");
        }
    }

    public void ShutdownSend()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw VmciError.Create(Errno.EBADF, "shutdown", Endpoint, "the connection is closed");
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

    public void Abort()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        // Leave the marker only while the peer can still see it: when our socket reads end of stream with nothing
        // buffered, the peer has closed (or half-closed) and a marker would only be left behind.
        var peerGone = _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        if (!peerGone)
        {
            try
            {
                File.WriteAllBytes(_layout.ResetMarker(RemoteMachine, RemoteAddress.Port, _seenByPeer), []);
            }
            catch (IOException)
            {
                // The peer's machine directory is gone: nobody is left to tell.
            }
            catch (UnauthorizedAccessException)
            {
                // Same: a fabric we cannot write to has no peer of ours in it.
            }
        }
        Dispose();
    }

    public ulong GetOption(VsockOption option) => _options.Get(option);

    public void SetOption(VsockOption option, ulong value) => _options.Set(option, value);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _socket.Dispose();
        // A reset marker nobody read: one stat, usually of nothing (File.Delete would also stat the directory).
        if (!_markerConsumed)
            TryDeleteMarker();
    }

    /// <summary>The machine that holds the peer: CID 1 (loopback) is our own machine.</summary>
    private uint RemoteMachine => RemoteAddress.Cid == VmciCid.Local ? _machine : RemoteAddress.Cid;

    private string OwnMarker => _layout.ResetMarker(_machine, _seenByPeer.Port, RemoteAddress);

    private async ValueTask<int> AwaitReceive(ValueTask<int> pending, bool emptyBuffer)
    {
        int n;
        try
        {
            n = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw Translate(e, "receive");
        }
        return n > 0 || emptyBuffer ? n : OnEndOfStream();
    }

    private int OnEndOfStream() =>
        ConsumeResetMarker() ? throw VmciError.Create(Errno.ECONNRESET, "receive", Endpoint, "the peer reset the connection") : 0;

    private bool ConsumeResetMarker()
    {
        if (_reset)
            return true;
        if (!_markerConsumed && TryDeleteMarker())
            _reset = true;
        return _reset;
    }

    private bool TryDeleteMarker()
    {
        try
        {
            var path = OwnMarker;
            if (!File.Exists(path))
                return false;
            File.Delete(path);
            _markerConsumed = true;
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private VmciException Translate(Exception e, string operation) => e switch
    {
        VmciException v => v,
        OperationCanceledException => VmciError.Create(Errno.ECANCELED, operation, Endpoint, "cancelled by the caller", e),
        ObjectDisposedException => VmciError.Create(Errno.EBADF, operation, Endpoint, "the connection is closed", e),
        SocketException s when ConsumeResetMarker() => VmciError.Create(Errno.ECONNRESET, operation, Endpoint, "the peer reset the connection", s),
        SocketException s => VmciError.FromSocketException(s, operation, Endpoint),
        _ => VmciError.Create(Errno.EIO, operation, Endpoint, e.Message, e),
    };
}
