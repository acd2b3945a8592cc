using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// The bind side of the relay: a vsock listener, and for every vmci connection it accepts one loopback TCP connection to
/// the NetMQ socket's hidden <c>tcp://127.0.0.1:P</c> endpoint, paired by a <see cref="RelayPair"/>. The same limits as
/// direct mode: at most <see cref="EndpointLimits.MaxConnections"/> live connections (refused during the simulator's
/// handshake, closed at once on the kernel), and a peer whose 64-byte ZMTP greeting has not arrived within the handshake
/// timeout is reset. Disposing it closes the listener and resets every accepted connection.
/// </summary>
internal sealed class BindRelay : RelayBase, IBindEndpoint
{
    /// <summary>The size of a ZMTP 3.x greeting: what the relay's greeting bound waits for.</summary>
    public const int GreetingBytes = 64;

    private readonly IVsockListener _listener;
    private readonly string _name;
    private readonly IPEndPoint _target;
    private readonly EndpointLimits _limits;
    private readonly bool _raw;
    private int _pending;
    private int _refused;
    private int _handshakeTimeouts;
    private int _handshakeDeadlines;

    public BindRelay(IVsockListener listener, int tcpPort, EndpointLimits limits, bool raw, TimeSpan linger)
        : base(linger)
    {
        _listener = listener;
        _name = listener.LocalAddress.ToString();
        _target = new IPEndPoint(IPAddress.Loopback, tcpPort);
        _limits = limits;
        _raw = raw;
        if (listener is IVsockAdmission admission)
            admission.Admit = () =>
            {
                if (ConnectionCount + Volatile.Read(ref _pending) < limits.MaxConnections)
                    return true;
                TransportLog.Logger.RefusedAtCapInHandshake(_name, limits.MaxConnections);
                return false;
            };
    }

    /// <summary>The port of the NetMQ socket's hidden tcp endpoint.</summary>
    public int TcpPort => _target.Port;

    /// <summary>The NetMQ socket's hidden tcp endpoint.</summary>
    public string TcpEndpoint => "tcp://127.0.0.1:" + TcpPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>The vmci address the listener really bound.</summary>
    public VsockAddress LocalAddress => _listener.LocalAddress;

    VmciTransportMode IEndpoint.Mode => VmciTransportMode.Relay;

    public int Refused => Volatile.Read(ref _refused);

    public int HandshakeTimeouts => Volatile.Read(ref _handshakeTimeouts);

    public int HandshakeDeadlines => Volatile.Read(ref _handshakeDeadlines);

    /// <summary>Starts accepting.</summary>
    public void Start() => StartAccepting(AcceptLoopAsync, _name);

    public void Close(SocketFacade socket)
    {
        try
        {
            socket.Unbind(TcpEndpoint);
        }
        finally
        {
            Dispose();
        }
    }

    public override void CloseListener() => _listener.Dispose();

    protected override void OnDrainStart() => CloseListener();

    private async Task AcceptLoopAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            IVsockConnection vsock;
            try
            {
                vsock = await _listener.AcceptAsync(Stopping).ConfigureAwait(false);
            }
            catch (VmciException e) when (e.Errno is Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM)
            {
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (e is VmciException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (ConnectionCount + Interlocked.Increment(ref _pending) > _limits.MaxConnections)
            {
                Interlocked.Decrement(ref _pending);
                Interlocked.Increment(ref _refused);
                TransportLog.Logger.RefusedAtCap(_name, vsock.RemoteAddress, _limits.MaxConnections);
                vsock.Abort();
                vsock.Dispose();
                continue;
            }
            // Paired on its own: the accept loop goes straight back to the listener, so a NetMQ socket slow to accept its
            // loopback connections never leaves vmci peers waiting in (and refused by) a full backlog.
            Track(PairAsync(vsock));
        }
    }

    /// <summary>Connects a loopback TCP connection to the NetMQ socket for <paramref name="vsock"/> and pairs the two.</summary>
    private async Task PairAsync(IVsockConnection vsock)
    {
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await tcp.ConnectAsync(_target, Stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The NetMQ socket is gone (disposed or unbound): refuse this peer and let the owner clean up.
            Interlocked.Decrement(ref _pending);
            tcp.Dispose();
            vsock.Abort();
            vsock.Dispose();
            return;
        }
        var pair = Adopt(tcp, vsock);
        Interlocked.Decrement(ref _pending);
        if (pair is not null && !_raw && _limits.HandshakeTimeout > TimeSpan.Zero)
            WatchGreeting(pair);
    }

    private void WatchGreeting(RelayPair pair) =>
        _ = Task.Delay(_limits.HandshakeTimeout, Stopping).ContinueWith(_ =>
        {
            if (!pair.IsClosed && pair.BytesFromPeer < GreetingBytes)
            {
                Interlocked.Increment(ref _handshakeTimeouts);
                TransportLog.Logger.HandshakeDeadline(_name, pair.Vsock.RemoteAddress, (long)_limits.HandshakeTimeout.TotalMilliseconds);
                pair.Abort();
            }
            Interlocked.Increment(ref _handshakeDeadlines);
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
