using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// The connect side of the relay: a listener on 127.0.0.1:0 that the NetMQ socket connects to (<c>tcp://127.0.0.1:P</c>).
/// Each TCP connection NetMQ makes — after the ownership check — gets one fresh vsock connection to the remote address;
/// failed attempts are retried on the socket's reconnect schedule (<see cref="ReconnectPolicy"/>) while NetMQ's TCP
/// connection waits, and with no retry the TCP connection is reset (NetMQ then does what its own reconnect interval
/// says). A stranger's connection is reset at once. After the NetMQ socket is disposed, attempts go on for its linger.
/// </summary>
internal sealed class ConnectRelay : RelayBase, IConnectEndpoint
{
    /// <summary>The pause after a failed accept (EMFILE and the like) before accepting again.</summary>
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly IVsockNetwork _network;
    private readonly VsockOptions _options;
    private readonly ReconnectPolicy _policy;
    private readonly Socket _listener;
    private readonly string _name;
    private int _attempts;
    private int _refused;
    private int _accepted;
    private VmciException? _lastError;

    public ConnectRelay(IVsockNetwork network, VsockAddress remote, VsockOptions options, ReconnectPolicy policy, TimeSpan linger)
        : base(linger)
    {
        _network = network;
        Remote = remote;
        _name = remote.ToString();
        _options = options;
        _policy = policy;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
    }

    /// <summary>The vmci address connections go to.</summary>
    public VsockAddress Remote { get; }

    /// <summary>The loopback port NetMQ connects to.</summary>
    public int Port { get; }

    /// <summary>The NetMQ socket's hidden tcp endpoint (what it connects to).</summary>
    public string TcpEndpoint => "tcp://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    VmciTransportMode IEndpoint.Mode => VmciTransportMode.Relay;

    /// <summary>vsock connect attempts so far.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Loopback connections refused because they came from another process.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>The error of the last failed vsock connect attempt, if any.</summary>
    public VmciException? LastError => Volatile.Read(ref _lastError);

    /// <summary>Set when an attempt failed and the policy forbids retrying.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>Starts accepting.</summary>
    public void Start() => StartAccepting(AcceptLoopAsync, _name);

    public void Close(SocketFacade socket)
    {
        try
        {
            socket.Disconnect(TcpEndpoint);
        }
        finally
        {
            Dispose();
        }
    }

    public override void CloseListener() => _listener.Dispose();

    protected override void OnDrainStart()
    {
        // NetMQ's session lingers and may still (re)connect: the loopback listener stays until the drain ends.
    }

    /// <summary>Also waits, within the linger, for NetMQ's first connection: until it has come, NetMQ may still have something to send.</summary>
    protected override bool Drained() => Volatile.Read(ref _accepted) > 0 && base.Drained();

    private async Task AcceptLoopAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            Socket tcp;
            try
            {
                tcp = await _listener.AcceptAsync(Stopping).ConfigureAwait(false);
            }
            catch (SocketException e) when (!Stopping.IsCancellationRequested && e.SocketErrorCode is not SocketError.OperationAborted)
            {
                // Out of descriptors, or a connection aborted before it was taken: the relay goes on (NetMQ reconnects);
                // ending here would leave every later connection of NetMQ's waiting in the backlog, unserved.
                try
                {
                    await Task.Delay(AcceptRetryDelay, Stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (!LoopbackOwnership.IsOwnConnection(tcp, Port))
            {
                Interlocked.Increment(ref _refused);
                TransportLog.Logger.RefusedStranger(_name);
                Reset(tcp);
                continue;
            }
            // Tracked before it counts as accepted: a drain looking in between must not find "accepted, nothing pending".
            Track(Task.Run(() => ConnectAsync(tcp)));
            Interlocked.Increment(ref _accepted);
        }
    }

    private async Task ConnectAsync(Socket tcp)
    {
        for (var failures = 0; ;)
        {
            Interlocked.Increment(ref _attempts);
            try
            {
                var vsock = await AttemptAsync().ConfigureAwait(false);
                TransportLog.Logger.Connected(_name, Attempts);
                Adopt(tcp, vsock);
                return;
            }
            catch (VmciException e)
            {
                Volatile.Write(ref _lastError, e);
            }
            if (Stopping.IsCancellationRequested || !_policy.Retries)
            {
                GaveUp = !_policy.Retries;
                if (GaveUp && LastError is { } last)
                    TransportLog.Logger.GaveUp(_name, Attempts, last.Errno, last.Message);
                Reset(tcp);
                return;
            }
            if (PeerClosed(tcp))
            {
                // NetMQ's session has ended (its socket closed, linger over): nobody is left to connect for.
                Reset(tcp);
                return;
            }
            try
            {
                var delay = _policy.Delay(++failures);
                if (LastError is { } error)
                    TransportLog.Logger.AttemptFailed(_name, Attempts, error.Errno, error.Message, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Reset(tcp);
                return;
            }
        }
    }

    /// <summary>True once NetMQ has closed its end (TCP_INFO state CLOSE_WAIT or CLOSE), even with unread bytes before its FIN.</summary>
    private static bool PeerClosed(Socket tcp)
    {
        const int IPPROTO_TCP = 6;
        const int TCP_INFO = 11;
        const byte TCP_CLOSE = 7;
        const byte TCP_CLOSE_WAIT = 8;
        try
        {
            Span<byte> info = stackalloc byte[8];
            return tcp.GetRawSocketOption(IPPROTO_TCP, TCP_INFO, info) > 0 && info[0] is TCP_CLOSE_WAIT or TCP_CLOSE;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    private async Task<IVsockConnection> AttemptAsync()
    {
        // The backend enforces the connect timeout; the guard here makes sure one attempt never outlives it by much.
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
        guard.CancelAfter((_options.ConnectTimeout ?? VsockOptions.DefaultConnectTimeout) + TimeSpan.FromSeconds(1));
        try
        {
            return await _network.ConnectAsync(Remote, _options, guard.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw VmciError.Create(Stopping.IsCancellationRequested ? Errno.ECANCELED : Errno.ETIMEDOUT, VmciOperation.Connect, Remote.ToString(), null, e);
        }
    }
}
