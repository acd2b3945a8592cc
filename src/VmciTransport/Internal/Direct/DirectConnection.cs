using System.Net.Sockets;
using Vmci.Transport.Internal.Linux;

namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// One vmci connection in direct mode: the seam connection, and the socket NetMQ's engine drives — the connection's own
/// socket when it hands it over (<see cref="IVsockDetachable"/>), otherwise one end of a socket pair whose other end is
/// pumped to the connection (<see cref="RelayPair"/>: the byte path that simulator faults on bytes need). Also the
/// greeting bound: a peer that has not completed the ZMTP handshake when it expires is shut out.
/// </summary>
internal sealed class DirectConnection : IDisposable
{
    private readonly Action<DirectConnection> _onClosed;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RelayPair? _pump;
    private Timer? _handshake;

    private DirectConnection(IVsockConnection vsock, Action<DirectConnection> onClosed)
    {
        Vsock = vsock;
        _onClosed = onClosed;
    }

    /// <summary>The seam connection (disposed once the engine's socket is closed).</summary>
    public IVsockConnection Vsock { get; }

    /// <summary>The socket NetMQ's engine drives.</summary>
    public AttachedSocket Socket { get; private set; } = null!;

    /// <summary>True when the bytes go through a pump (the connection kept its socket).</summary>
    public bool IsPumped => _pump is not null;

    /// <summary>
    /// Takes over <paramref name="vsock"/>. On failure (no descriptors left) the connection is closed and the
    /// <see cref="VmciException"/> thrown; <paramref name="onClosed"/> runs once when the engine's socket is closed.
    /// </summary>
    public static DirectConnection Take(IVsockConnection vsock, string endpoint, Action<DirectConnection> onClosed)
    {
        var connection = new DirectConnection(vsock, onClosed);
        Socket? engineSide = null;
        try
        {
            if (vsock is IVsockDetachable detachable && detachable.TryDetachSocket(out var own))
            {
                engineSide = own;
            }
            else
            {
                var (first, second) = SocketPair.Create(endpoint);
                engineSide = first;
                connection._pump = new RelayPair(second, vsock, _ => { });
            }
            connection.Socket = AttachedSocket.Adopt(engineSide, connection.OnSocketClosed);
            return connection;
        }
        catch (Exception e)
        {
            engineSide?.Dispose();
            vsock.Abort();
            vsock.Dispose();
            throw VmciError.From(e, VmciOperation.Accept, endpoint);
        }
    }

    /// <summary>
    /// After the engine is attached: starts the pump, the traffic gate of a simulated connection (<see cref="TrafficGate"/>)
    /// and the greeting bound (<paramref name="timeout"/> zero: none).
    /// </summary>
    /// <param name="hook">The adapter.</param>
    /// <param name="attached">The engine and its AsyncIO socket.</param>
    /// <param name="timeout">The greeting bound; zero: none.</param>
    /// <param name="onDeadline">Runs when the bound passes, with true when the peer had not made it (and is shut out).</param>
    public void Start(NetMQInternals hook, (object Engine, AsyncIO.AsyncSocket Native) attached, TimeSpan timeout, Action<bool> onDeadline)
    {
        _pump?.Start();
        if (_pump is null)
            TrafficGate.Watch(hook, attached.Native, Vsock, _closed.Task);
        var engine = attached.Engine;
        if (timeout <= TimeSpan.Zero)
            return;
        var timer = new Timer(_ =>
        {
            var done = hook.HandshakeDone(engine) || Socket.SafeHandle.IsClosed;
            if (!done)
                Socket.ShutdownQuietly();
            onDeadline(!done);
        });
        Volatile.Write(ref _handshake, timer);
        timer.Change(timeout, Timeout.InfiniteTimeSpan);
        if (Socket.SafeHandle.IsClosed)
            timer.Dispose();
    }

    /// <summary>Ends the engine from outside (the peer sees end of stream); the engine closes the socket.</summary>
    public void Abort() => Socket.ShutdownQuietly();

    /// <summary>Closes everything at once (when the engine could not be attached).</summary>
    public void Dispose()
    {
        Socket.Dispose();
        _pump?.Abort();
    }

    // On NetMQ's I/O thread (or the thread that disposed the socket): quick, never throws.
    private void OnSocketClosed()
    {
        Volatile.Read(ref _handshake)?.Dispose();
        _closed.TrySetResult();
        try
        {
            if (_pump is null)
                Vsock.Dispose();
        }
        catch (Exception e) when (e is VmciException or SocketException or ObjectDisposedException)
        {
            // Releasing the connection object only; nothing to report.
        }
        _onClosed(this);
    }
}
