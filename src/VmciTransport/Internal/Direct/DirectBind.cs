namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// A vmci bind in direct mode: the vsock (or simulator) listener, and for every connection it accepts a NetMQ session
/// with NetMQ's own StreamEngine on the connection's socket, owned by an anchor session of the NetMQ socket (as NetMQ's
/// TcpListener owns its sessions). No TCP listener exists. Limits: at most <see cref="EndpointLimits.MaxConnections"/>
/// live connections (the simulator refuses more during its handshake, ECONNRESET as from a full backlog; the kernel's are
/// closed as soon as accepted), and a peer that does not complete the ZMTP handshake in time is shut out.
/// </summary>
internal sealed class DirectBind : IBindEndpoint
{
    private readonly NetMQInternals _hook;
    private readonly object _socketBase;
    private readonly object _anchor;
    private readonly IVsockListener _listener;
    private readonly string _endpoint;
    private readonly EndpointLimits _limits;
    private readonly bool _raw;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<DirectConnection> _live = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _count;
    private int _refused;
    private int _handshakeTimeouts;
    private int _handshakeDeadlines;
    private bool _stopped;
    private int _released;

    private DirectBind(NetMQInternals hook, object socketBase, object anchor, IVsockListener listener, string endpoint, EndpointLimits limits)
    {
        _hook = hook;
        _socketBase = socketBase;
        _anchor = anchor;
        _listener = listener;
        _endpoint = endpoint;
        _limits = limits;
        _raw = hook.IsRaw(socketBase);
    }

    public VmciTransportMode Mode => VmciTransportMode.Direct;

    public VsockAddress LocalAddress => _listener.LocalAddress;

    public int ConnectionCount => Volatile.Read(ref _count);

    public int Refused => Volatile.Read(ref _refused);

    public int HandshakeTimeouts => Volatile.Read(ref _handshakeTimeouts);

    public int HandshakeDeadlines => Volatile.Read(ref _handshakeDeadlines);

    public IVsockConnection[] Connections
    {
        get
        {
            lock (_gate)
                return [.. _live.Select(c => c.Vsock)];
        }
    }

    /// <summary>On the socket's thread: the anchor session (LAST_ENDPOINT set to <paramref name="listener"/>'s address), then accepting.</summary>
    public static DirectBind Open(NetMQInternals hook, object socket, IVsockListener listener, EndpointLimits limits)
    {
        var socketBase = hook.SocketBaseOf(socket);
        var endpoint = listener.LocalAddress.ToString();
        var anchor = hook.Locked(socketBase, () =>
        {
            var a = hook.OpenListenerAnchor(socketBase, endpoint);
            hook.SetLastEndpoint(socketBase, endpoint);
            return a;
        });
        var bind = new DirectBind(hook, socketBase, anchor, listener, endpoint, limits);
        if (listener is IVsockAdmission admission)
            admission.Admit = () => Volatile.Read(ref bind._count) < limits.MaxConnections;
        bind._acceptLoop = Task.Run(bind.AcceptLoopAsync);
        return bind;
    }

    /// <summary>
    /// Unbind: the listener closes (the port is free on return), the accepted connections are dropped at once — their
    /// peers see end of stream, as with the relay — and NetMQ terminates their sessions.
    /// </summary>
    public void Close(SocketFacade socket)
    {
        Stop();
        DirectConnection[] live;
        lock (_gate)
            live = [.. _live];
        foreach (var connection in live)
            connection.Abort();
        try
        {
            _hook.Locked(_socketBase, () =>
            {
                _hook.Terminate(_socketBase, _anchor, null);
                return 0;
            });
        }
        finally
        {
            Release();
        }
    }

    public void CloseListener() => _listener.Dispose();

    public void Dispose()
    {
        Stop();
        Release();
    }

    public bool OnSocketGone()
    {
        Stop();
        Release();
        return true;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            IVsockConnection accepted;
            try
            {
                accepted = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (VmciException e) when (e.Errno is Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM)
            {
                // Out of descriptors: the kernel keeps the connection queued; try again shortly instead of spinning.
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (e is VmciException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (Interlocked.Increment(ref _count) > _limits.MaxConnections)
            {
                Interlocked.Decrement(ref _count);
                Interlocked.Increment(ref _refused);
                accepted.Abort();
                accepted.Dispose();
                continue;
            }
            Attach(accepted);
        }
    }

    private void Attach(IVsockConnection accepted)
    {
        DirectConnection connection;
        try
        {
            connection = DirectConnection.Take(accepted, _endpoint, Forget);
        }
        catch (VmciException)
        {
            Interlocked.Decrement(ref _count);
            return;
        }
        (object Engine, AsyncIO.AsyncSocket Native) engine;
        lock (_gate)
        {
            if (_stopped)
            {
                Interlocked.Decrement(ref _count);
                connection.Dispose();
                return;
            }
            _live.Add(connection);
            try
            {
                engine = _hook.AttachAccepted(_socketBase, _anchor, connection.Socket, _endpoint);
            }
            catch (Exception e) when (e is NetMQ.NetMQException or ObjectDisposedException)
            {
                // The NetMQ context is terminating: nothing can take the connection.
                connection.Dispose();
                return;
            }
        }
        connection.Start(_hook, engine, _raw ? TimeSpan.Zero : _limits.HandshakeTimeout, timedOut =>
        {
            if (timedOut)
                Interlocked.Increment(ref _handshakeTimeouts);
            Interlocked.Increment(ref _handshakeDeadlines);
        });
    }

    private void Forget(DirectConnection connection)
    {
        lock (_gate)
        {
            if (!_live.Remove(connection))
                return;
        }
        Interlocked.Decrement(ref _count);
    }

    /// <summary>
    /// No attach after this returns: attaching happens under <c>_gate</c> after a look at <c>_stopped</c>, so once this
    /// has taken the lock none is in progress or to come. The listener is closed (the port is free); the accept loop ends
    /// on its own — nothing waits for it (a blocked wait on a pool thread starves the pool that would end it).
    /// </summary>
    private void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
                return;
            _stopped = true;
        }
        _stopping.Cancel();
        _listener.Dispose();
        _acceptLoop.ContinueWith(t =>
        {
            if (t.Exception is { } e)
                VmciTransport.Log($"vmci: the accept loop of {_endpoint} failed: {e.InnerException?.Message}");
            _stopping.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            _hook.Release(_anchor);
    }
}
