using System.Net.Sockets;
using System.Threading.Channels;

namespace Vmci.Sim.Internal;

/// <summary>
/// A simulated listening vsock socket: a Unix domain socket bound at &lt;fabric&gt;/&lt;cid&gt;/&lt;port&gt;. A background
/// loop accepts Unix connections and answers their handshakes; a connection is accepted (and the connector's
/// connect succeeds) only when the backlog has room, as in the kernel; otherwise it is refused with ECONNRESET.
/// Malformed, truncated, oversized or slow handshakes are refused and closed without affecting the listener.
/// </summary>
internal sealed class SimListener : IVsockListener, IVsockAdmission, IFaultTarget
{
    /// <summary>How long a connector may take to send its request line.</summary>
    internal TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many handshakes may wait for their request at once; beyond that new ones are closed at once.</summary>
    internal const int MaxPendingHandshakes = 64;

    /// <summary>How long the accept thread waits, blocking, for a request before handing the handshake to an async read.</summary>
    private const int RequestGraceMicroseconds = 1000;

    private static readonly byte[] Accepted = Handshake.FormatReply(null);

    private readonly Socket _socket;
    private readonly FabricLayout _layout;
    private readonly uint _machine;
    private readonly VsockBufferModel _options;
    private readonly int _capacity;
    private readonly Channel<SimConnection> _queue = Channel.CreateUnbounded<SimConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly CancellationTokenSource _closing = new();
    private readonly Thread _acceptThread;
    private int _queued;
    private int _pendingHandshakes;
    private int _disposed;

    private readonly FaultState _faults;

    public SimListener(Socket socket, FabricLayout layout, uint machine, VsockAddress bound, VsockBufferModel options, int backlog, FaultState faults)
    {
        _faults = faults;
        faults.Register(this); // keeps the fault poll running: CID changes must reach the accept check
        _socket = socket;
        _layout = layout;
        _machine = machine;
        LocalAddress = bound;
        _options = options;
        // sk_acceptq_is_full() is "queued > backlog": a backlog of n holds n + 1 connections.
        _capacity = Math.Max(backlog, 0) + 1;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = $"vmci-sim accept {bound}" };
        _acceptThread.Start();
    }

    public VsockAddress LocalAddress { get; }

    public Func<bool>? Admit { get; set; }

    /// <summary>The background accept thread (tests check it ends after dispose).</summary>
    internal Thread AcceptThread => _acceptThread;

    public async ValueTask<IVsockConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Decrement(ref _queued);
            return connection;
        }
        catch (ChannelClosedException e)
        {
            throw VmciError.Create(Errno.EBADF, VmciOperation.Accept, LocalAddress.ToString(), "the listener is closed", e);
        }
        catch (OperationCanceledException e)
        {
            throw VmciError.Create(Errno.ECANCELED, VmciOperation.Accept, LocalAddress.ToString(), "cancelled by the caller", e);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _queue.Writer.TryComplete();
        _closing.Cancel();
        _faults.Unregister(this);
        // The socket file goes first, while the socket still listens (nobody may see it stale and reclaim it), and only
        // if it is still this socket's file. After a CID change it lives under the new CID: the same inode, renamed.
        SocketFiles.Release(_socket, _layout.SocketPath(Machine, LocalAddress.Port));
        // Connections nobody accepted are closed: their peers read end of stream.
        while (_queue.Reader.TryRead(out var orphan))
            orphan.Dispose();
    }

    /// <summary>
    /// The accept loop runs on its own thread in a blocking accept(2): a new connection wakes it directly, one hop
    /// fewer than an async accept (epoll thread, then a pool thread), which is most of a connect's cost. A request
    /// already in the socket is answered right there; a slow one continues asynchronously.
    /// </summary>
    private void AcceptLoop()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _socket.Accept();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                if (Volatile.Read(ref _disposed) != 0)
                    return;
                continue; // e.g. ECONNABORTED: the connector gave up before we took it
            }
            if (Interlocked.Increment(ref _pendingHandshakes) > MaxPendingHandshakes)
            {
                Interlocked.Decrement(ref _pendingHandshakes);
                client.Dispose();
                continue;
            }
            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(Socket client)
    {
        var keep = false;
        try
        {
            var buffer = new byte[Handshake.MaxRequestBytes];
            var length = 0;
            CancellationTokenSource? timeout = null;
            try
            {
                while (true)
                {
                    var newline = buffer.AsSpan(0, length).IndexOf((byte)'\n');
                    if (newline >= 0)
                    {
                        // Nothing may follow the request: the connector waits for our answer.
                        if (newline != length - 1)
                            Refuse(client, Errno.EINVAL);
                        else
                            keep = Answer(client, buffer.AsSpan(0, length));
                        return;
                    }
                    if (length == buffer.Length)
                    {
                        Refuse(client, Errno.EINVAL);
                        return;
                    }
                    int read;
                    // A connector sends its request right after connect(2), usually before this thread runs; if it is
                    // not there yet, a short blocking wait here is far cheaper than going async. Past it, async.
                    if (timeout is null ? client.Poll(RequestGraceMicroseconds, SelectMode.SelectRead) : client.Available > 0)
                    {
                        read = client.Receive(buffer.AsSpan(length), SocketFlags.None);
                    }
                    else
                    {
                        timeout ??= CreateTimeout();
                        read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    }
                    if (read == 0)
                        return; // truncated: the connector went away
                    length += read;
                }
            }
            finally
            {
                timeout?.Dispose();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Slow, vanished or shut down: drop this one connection only.
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            if (!keep)
                client.Dispose();
        }
    }

    private CancellationTokenSource CreateTimeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        cts.CancelAfter(HandshakeTimeout);
        return cts;
    }

    /// <summary>Checks a complete request and answers it; true when the connection went into the queue.</summary>
    private bool Answer(Socket client, ReadOnlySpan<byte> line)
    {
        if (Handshake.TryParseRequest(line, out var request) is { } invalid)
        {
            Refuse(client, invalid);
            return false;
        }
        if (Check(request) is { } refusal)
        {
            Refuse(client, refusal);
            return false;
        }
        // A refusal by the owner's admission check looks like a full backlog: ECONNRESET.
        if (Admit is { } admit && !admit())
        {
            Refuse(client, Errno.ECONNRESET);
            return false;
        }
        if (Interlocked.Increment(ref _queued) > _capacity || Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Decrement(ref _queued);
            Refuse(client, Errno.ECONNRESET);
            return false;
        }
        // Answer before queueing, so that nothing the accepting side sends can overtake the reply.
        client.Send(Accepted, SocketFlags.None);
        var machine = Machine;
        var peer = request.Source.Cid == VmciCid.Local ? machine : request.Source.Cid;
        var connection = new SimConnection(client, request.Destination, request.Source, _options.Clone(), _faults, machine, peer);
        if (_queue.Writer.TryWrite(connection))
            return true;
        Interlocked.Decrement(ref _queued);
        connection.Dispose();
        return true; // disposed already, through the connection
    }

    /// <summary>The kernel's lookup (__vsock_find_bound_socket): the destination must be this socket's address.</summary>
    private Errno? Check(Handshake.Request request)
    {
        var destination = request.Destination;
        var machine = Machine;
        if (destination.Cid != machine && destination.Cid != VmciCid.Local && _faults.Refresh().Faults.Count != 0)
            machine = Machine; // a CID change this process has not polled yet
        if (destination.Port != LocalAddress.Port)
            return Errno.ECONNRESET;
        // Only this machine itself can arrive through CID 1 (loopback).
        if (destination.Cid == VmciCid.Local && request.Source.Cid != VmciCid.Local)
            return Errno.ECONNRESET;
        if (destination.Cid != machine && destination.Cid != VmciCid.Local)
            return Errno.ECONNRESET;
        // Bound to a specific CID (the machine's or 1): reachable through that CID only.
        if (LocalAddress.Cid != VmciCid.Any && LocalAddress.Cid != destination.Cid)
            return Errno.ECONNRESET;
        return null;
    }

    /// <summary>The machine's CID now (it moves with a CID change fault).</summary>
    private uint Machine => _faults.Active ? _faults.Current.Resolve(_machine) : _machine;

    SimFault? IFaultTarget.ResetBy(FaultSet set) => null;

    void IFaultTarget.ResetByFault(SimFault fault)
    {
    }

    void IFaultTarget.ThrowIfReset()
    {
    }

    Task IFaultTarget.Closed => Task.Delay(Timeout.Infinite, _closing.Token);

    private static void Refuse(Socket client, Errno errno)
    {
        try
        {
            client.Send(Handshake.FormatReply(errno), SocketFlags.None);
        }
        catch (SocketException)
        {
            // The connector is gone; nothing to tell.
        }
    }
}
