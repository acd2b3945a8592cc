namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// A vmci connect in direct mode. Like NetMQ's tcp connect: a connect session with its pipe attached at once, so messages
/// queue before the first connection and across reconnects; here the session's connector is this class's loop, which
/// makes one vsock (or simulator) connection at a time on the socket's reconnect schedule (<see cref="ReconnectPolicy"/>:
/// interval + jitter, doubling up to the maximum, -1 = no retry; each attempt bounded by the connect timeout) and hands
/// each connection to NetMQ's StreamEngine in that session. After the NetMQ socket is disposed the loop goes on while the
/// session lingers — linger covers connections still being made — and stops when NetMQ terminates the session.
/// </summary>
internal sealed class DirectConnect : IConnectEndpoint, ILingering
{
    private readonly NetMQInternals _hook;
    private readonly object _socketBase;
    private readonly object _session;
    private readonly object? _pipe;
    private readonly IVsockNetwork _network;
    private readonly VsockOptions _options;
    private readonly ReconnectPolicy _policy;
    private readonly EndpointLimits _limits;
    private readonly string _endpoint;
    private readonly bool _raw;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task _loop = Task.CompletedTask;
    private DirectConnection? _live;
    private int _attempts;
    private VmciException? _lastError;
    private bool _stopped;
    private int _released;
    private TimeSpan _linger = SocketState.MaxDrain;
    private DateTime? _goneUntil;

    private DirectConnect(NetMQInternals hook, object socketBase, (object Session, object? Pipe) session, IVsockNetwork network, VsockAddress remote,
        VsockOptions options, ReconnectPolicy policy, EndpointLimits limits)
    {
        _hook = hook;
        _socketBase = socketBase;
        (_session, _pipe) = session;
        _network = network;
        Remote = remote;
        _endpoint = remote.ToString();
        _options = options;
        _policy = policy;
        _limits = limits;
        _raw = hook.IsRaw(socketBase);
    }

    public VmciTransportMode Mode => VmciTransportMode.Direct;

    public VsockAddress Remote { get; }

    public int Attempts => Volatile.Read(ref _attempts);

    public VmciException? LastError => Volatile.Read(ref _lastError);

    public bool GaveUp { get; private set; }

    /// <summary>True once the loop was told to stop (disconnect, dispose, the linger over).</summary>
    public bool IsStopped
    {
        get
        {
            lock (_gate)
                return _stopped;
        }
    }

    public int ConnectionCount => Volatile.Read(ref _live) is null ? 0 : 1;

    public IVsockConnection[] Connections => Volatile.Read(ref _live) is { } live ? [live.Vsock] : [];

    /// <summary>On the socket's thread: the connect session (LAST_ENDPOINT: <paramref name="remote"/>), then connecting in the background.</summary>
    public static DirectConnect Open(NetMQInternals hook, object socket, IVsockNetwork network, VsockAddress remote, VsockOptions options,
        ReconnectPolicy policy, EndpointLimits limits)
    {
        var socketBase = hook.SocketBaseOf(socket);
        var endpoint = remote.ToString();
        var session = hook.Locked(socketBase, () =>
        {
            var s = hook.OpenConnectSession(socketBase, endpoint);
            hook.SetLastEndpoint(socketBase, endpoint);
            return s;
        });
        var connect = new DirectConnect(hook, socketBase, session, network, remote, options, policy, limits);
        connect._loop = Task.Run(connect.LoopAsync);
        return connect;
    }

    /// <summary>Disconnect: no more attempts, the connection is dropped at once (the peer sees end of stream) and NetMQ terminates the session, dropping what was queued.</summary>
    public void Close(SocketFacade socket)
    {
        Stop();
        Volatile.Read(ref _live)?.Abort();
        try
        {
            _hook.Locked(_socketBase, () =>
            {
                _hook.Terminate(_socketBase, _session, _pipe);
                return 0;
            });
        }
        finally
        {
            Release();
        }
    }

    public void Dispose()
    {
        Stop();
        Release();
    }

    public void SetLinger(TimeSpan linger) => _linger = RelayBase.Cap(linger);

    /// <summary>
    /// Goes on connecting and delivering while NetMQ's session lingers, and no longer than the socket's linger: a session
    /// whose context was terminated without waiting (<c>NetMQConfig.Cleanup(block: false)</c>) is never seen terminating,
    /// and a peer that never comes would keep the loop — and a process ending normally, which waits for lingering
    /// endpoints — alive (a held SUB whose publisher was gone did not exit on SIGTERM).
    /// </summary>
    public bool OnSocketGone()
    {
        var until = _goneUntil ??= DateTime.UtcNow + _linger;
        if (!_hook.IsTerminating(_session) && DateTime.UtcNow < until)
            return false; // still lingering: keep connecting and delivering
        Stop();
        Release();
        return true;
    }

    private async Task LoopAsync()
    {
        var token = _stopping.Token;
        var failures = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                Interlocked.Increment(ref _attempts);
                IVsockConnection connection;
                try
                {
                    connection = await AttemptAsync(token).ConfigureAwait(false);
                }
                catch (VmciException e)
                {
                    Volatile.Write(ref _lastError, e);
                    if (token.IsCancellationRequested || !_policy.Retries)
                    {
                        GaveUp = !_policy.Retries;
                        if (GaveUp)
                            TransportLog.Logger.GaveUp(_endpoint, Attempts, e.Errno, e.Message);
                        return;
                    }
                    var delay = _policy.Delay(++failures);
                    TransportLog.Logger.AttemptFailed(_endpoint, Attempts, e.Errno, e.Message, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, token).ConfigureAwait(false);
                    continue;
                }
                failures = 0;
                TransportLog.Logger.Connected(_endpoint, Attempts);
                var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!Attach(connection, closed))
                    return;
                await closed.Task.WaitAsync(token).ConfigureAwait(false);
                // The connection ended: NetMQ reconnects after its interval, and not at all with -1.
                if (!_policy.Retries)
                    return;
                var again = _policy.Delay(1);
                TransportLog.Logger.Reconnecting(_endpoint, (long)again.TotalMilliseconds);
                await Task.Delay(again, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Disconnected, or the session terminated.
        }
    }

    private async Task<IVsockConnection> AttemptAsync(CancellationToken token)
    {
        // The backend enforces the connect timeout; the guard makes sure one attempt never outlives it by much.
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(token);
        guard.CancelAfter((_options.ConnectTimeout ?? VsockOptions.DefaultConnectTimeout) + TimeSpan.FromSeconds(1));
        try
        {
            return await _network.ConnectAsync(Remote, _options, guard.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw VmciError.Create(token.IsCancellationRequested ? Errno.ECANCELED : Errno.ETIMEDOUT, VmciOperation.Connect, _endpoint, null, e);
        }
    }

    /// <summary>Hands <paramref name="connection"/> to a new engine in the session; false when the endpoint is stopping.</summary>
    private bool Attach(IVsockConnection connection, TaskCompletionSource closed)
    {
        DirectConnection live;
        try
        {
            live = DirectConnection.Take(connection, _endpoint, c =>
            {
                Interlocked.CompareExchange(ref _live, null, c);
                closed.TrySetResult();
            });
        }
        catch (VmciException e)
        {
            Volatile.Write(ref _lastError, e);
            closed.TrySetResult();
            return true;
        }
        (object Engine, AsyncIO.AsyncSocket Native) engine;
        lock (_gate)
        {
            if (_stopped)
            {
                live.Dispose();
                return false;
            }
            Volatile.Write(ref _live, live);
            try
            {
                engine = _hook.AttachToSession(_socketBase, _session, live.Socket, _endpoint);
            }
            catch (Exception e) when (e is NetMQ.NetMQException or ObjectDisposedException)
            {
                live.Dispose();
                return false;
            }
        }
        live.Start(_hook, engine, _raw ? TimeSpan.Zero : _limits.HandshakeTimeout, _ => { });
        return true;
    }

    /// <summary>
    /// No attach after this returns (attaching happens under <c>_gate</c> after a look at <c>_stopped</c>). The attempt in
    /// progress is cancelled; the loop ends on its own — nothing waits for it on a pool thread.
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
        _loop.ContinueWith(t =>
        {
            if (t.Exception is { } e)
                TransportLog.Logger.LoopFailed("connect", _endpoint, e.InnerException ?? e);
            _stopping.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        try
        {
            _hook.Release(_session);
        }
        catch (Exception e) when (e is ObjectDisposedException or NetMQ.TerminatingException or System.Net.Sockets.SocketException)
        {
            // The context is already gone (terminated without waiting): nothing is left to release.
        }
    }
}
