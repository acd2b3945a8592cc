using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Vmci.Sim.Internal;

/// <summary>
/// A simulated listening vsock socket: a Unix domain socket bound at &lt;fabric&gt;/&lt;cid&gt;/&lt;port&gt;. A background
/// loop accepts Unix connections and answers their handshakes; a connection is accepted (and the connector's
/// connect succeeds) only when the backlog has room, as in the kernel; otherwise it is refused with ECONNRESET.
/// The listener is the one that enforces policy (docs/security.md), whatever the connector's library did: the source
/// CID a connector claims must be one it holds (its end of the Unix socket is bound in that machine's directory, a real
/// directory of the connecting user), the topology (<see cref="SimTopology.Vmware"/>: a guest reaches the host and
/// itself only) and the refuse, partition and pause faults. Malformed, truncated, oversized or slow handshakes are
/// refused and closed without affecting the listener; there is no fixed number of handshake slots: each pending
/// handshake holds one descriptor for at most <see cref="FirstByteTimeout"/> (nothing sent) and
/// <see cref="HandshakeTimeout"/> (the whole request line), and when descriptors run out the oldest is dropped.
/// </summary>
internal sealed class SimListener : IVsockListener, IVsockAdmission, IFaultTarget
{
    /// <summary>How long a connector may take to send its whole request line.</summary>
    /// <remarks>Defaults to 2 s.</remarks>
    internal TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a connector may take to send the first byte of its request (a real one sends it with connect).</summary>
    /// <remarks>
    /// Defaults to 2 s, and is never longer than <see cref="HandshakeTimeout"/>. 500 ms was too short for a loaded machine:
    /// in a TCG guest under load a legitimate connector (preempted between its connect and its send, or this listener's
    /// read completing late) was dropped and saw ECONNRESET. Exhaustion is handled apart: out of descriptors, the oldest
    /// pending handshake is dropped.
    /// </remarks>
    internal TimeSpan FirstByteTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>While fewer handshakes than this are pending, the accept thread waits briefly in place for a request.</summary>
    private const int GraceWhilePendingBelow = 4;

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
    private int _disposed;

    private readonly FaultState _faults;
    private readonly Func<SimTopology> _topology;

    /// <summary>Handshakes waiting for their request, with when they were accepted (the oldest is dropped when descriptors run out).</summary>
    private readonly ConcurrentDictionary<Socket, long> _pending = new();

    public SimListener(
        Socket socket, FabricLayout layout, uint machine, VsockAddress bound, VsockBufferModel options, int backlog, FaultState faults, Func<SimTopology> topology)
    {
        _faults = faults;
        _topology = topology;
        faults.Register(this); // keeps the fault poll running: CID changes must reach the accept check
        _socket = socket;
        _layout = layout;
        _machine = machine;
        LocalAddress = bound;
        _options = options;
        // sk_acceptq_is_full() is "queued > backlog": a backlog of n holds n + 1 connections.
        _capacity = Math.Max(backlog, 0) + 1;
        _acceptThread = BlockingAccept.Start($"vmci-sim accept {bound}", _socket.Accept, Answer, DropOldestPending, _closing.Token);
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
    /// Takes a connection from the accept thread: a request already in the socket is answered right there, on that
    /// thread; a slow one continues asynchronously.
    /// </summary>
    private void Answer(Socket client)
    {
        _pending[client] = Environment.TickCount64;
        _ = AnswerAsync(client);
    }

    /// <summary>Drops the handshake that has waited longest for its request; false when none is pending.</summary>
    private bool DropOldestPending()
    {
        Socket? oldest = null;
        var since = long.MaxValue;
        foreach (var (socket, accepted) in _pending)
        {
            if (accepted < since)
                (oldest, since) = (socket, accepted);
        }
        if (oldest is null || !_pending.TryRemove(oldest, out _))
            return false;
        oldest.Dispose(); // its pending read ends, and AnswerAsync drops it
        return true;
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
                        _pending.TryRemove(client, out _);
                        // Nothing may follow the request: the connector waits for our answer.
                        if (newline != length - 1)
                            Refuse(client, Errno.EINVAL);
                        else
                            keep = await AnswerAsync(client, buffer.AsMemory(0, length)).ConfigureAwait(false);
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
                    // Under load (many pending: idle connectors, perhaps hostile) the accept thread never waits in place.
                    var grace = timeout is null && _pending.Count < GraceWhilePendingBelow;
                    if (grace ? client.Poll(RequestGraceMicroseconds, SelectMode.SelectRead) : client.Available > 0)
                    {
                        read = client.Receive(buffer.AsSpan(length), SocketFlags.None);
                    }
                    else
                    {
                        timeout ??= CreateTimeout();
                        if (length == 0)
                            timeout.CancelAfter(FirstByteTimeout < HandshakeTimeout ? FirstByteTimeout : HandshakeTimeout);
                        read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        if (length == 0 && read > 0)
                            timeout.CancelAfter(HandshakeTimeout); // the first byte came: the rest of the line within the handshake bound
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
        catch (VmciException e)
        {
            // The fabric could not be read to decide (a topology file that is a link, say): refused, naming the errno.
            Refuse(client, e.Errno);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Slow, vanished or shut down: drop this one connection only.
        }
        finally
        {
            _pending.TryRemove(client, out _);
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
    private async ValueTask<bool> AnswerAsync(Socket client, ReadOnlyMemory<byte> line)
    {
        if (Handshake.TryParseRequest(line.Span, out var request) is { } invalid)
        {
            Refuse(client, invalid);
            return false;
        }
        if (Check(request) is { } refusal)
        {
            Refuse(client, refusal);
            return false;
        }
        var machine = Machine;
        var source = request.Source.Cid == VmciCid.Local ? machine : request.Source.Cid;
        if ((_layout.CheckConnector(client, source) ?? CheckPolicy(source, machine)) is { } denied)
        {
            Refuse(client, denied);
            return false;
        }
        if (_faults.Current.IsStalled(source, machine, new VsockAddress(machine, LocalAddress.Port)))
        {
            // Partitioned or paused: the request is lost, as on the wire. The connector waits (its connect timeout) or
            // goes away; if the fault clears first, the request goes through — policy checked again.
            if (!await WaitWhileStalledAsync(client, source, machine).ConfigureAwait(false))
                return false;
            if (CheckPolicy(source, machine) is { } now)
            {
                Refuse(client, now);
                return false;
            }
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
        try
        {
            client.Send(Accepted, SocketFlags.None);
        }
        catch (SocketException)
        {
            Interlocked.Decrement(ref _queued); // the connector left before its answer (EPIPE): its place in the backlog is free
            return false;
        }
        var peer = source;
        var connection = new SimConnection(client, request.Destination, request.Source, _options.Clone(), _faults, machine, peer, accepted: true);
        if (_queue.Writer.TryWrite(connection))
            return true;
        Interlocked.Decrement(ref _queued);
        connection.Dispose();
        return true; // disposed already, through the connection
    }

    /// <summary>The policy the listener enforces itself: the topology (ENETUNREACH) and the refuse fault (ECONNRESET).</summary>
    private Errno? CheckPolicy(uint source, uint machine)
    {
        if (source >= VmciCid.FirstGuest && machine >= VmciCid.FirstGuest && source != machine && _topology() == SimTopology.Vmware)
            return Errno.ENETUNREACH;
        if (_faults.Refresh().IsRefused(source, new VsockAddress(machine, LocalAddress.Port)))
            return Errno.ECONNRESET;
        return null;
    }

    /// <summary>Holds a request while its pair is stalled; false when the connector went away or the listener closed.</summary>
    private async ValueTask<bool> WaitWhileStalledAsync(Socket client, uint source, uint machine)
    {
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        // A connector sends nothing until it has the answer: a read that completes means it closed (or misbehaves).
        var read = client.ReceiveAsync(new byte[1], SocketFlags.None, gone.Token).AsTask();
        var cleared = _faults.WaitWhileStalledAsync(source, machine, new VsockAddress(machine, LocalAddress.Port), null, gone.Token).AsTask();
        try
        {
            var first = await Task.WhenAny(read, cleared).ConfigureAwait(false);
            return first == cleared && cleared.IsCompletedSuccessfully;
        }
        finally
        {
            gone.Cancel();
            await Task.WhenAll(read, cleared).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connector is gone (or the listener closed it); nothing to tell.
        }
    }
}
