using System.Net.Sockets;
using System.Reflection;
using NetMQ;

namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// The typed wrappers over the members resolved by the self-check. Each mirrors one step of what NetMQ itself does in
/// SocketBase.Connect, TcpListener.InCompleted, TcpConnector.OutCompleted and SocketBase.TermEndpoint; the comments name
/// the NetMQ code they follow. "Socket base" is NetMQ's SocketBase behind a NetMQSocket or ThreadSafeSocket; "own" is
/// any of NetMQ's Own objects (a session here).
/// </summary>
internal sealed partial class NetMQInternals
{
    /// <summary>The SocketBase behind a <see cref="NetMQSocket"/> or a <see cref="ThreadSafeSocket"/>.</summary>
    public object SocketBaseOf(object socket) => socket switch
    {
        NetMQSocket s => _netmqSocketHandle.GetValue(s)!,
        ThreadSafeSocket t => _threadSafeSocketHandle.GetValue(t)!,
        _ => throw new ArgumentException("not a NetMQ socket", nameof(socket)),
    };

    /// <summary>SocketBase.Lock/Unlock around <paramref name="action"/> (a real lock for the thread-safe socket types), after CheckDisposed.</summary>
    public T Locked<T>(object socketBase, Func<T> action)
    {
        Call(_checkDisposed, socketBase);
        Call(_lock, socketBase);
        try
        {
            return action();
        }
        finally
        {
            Call(_unlock, socketBase);
        }
    }

    /// <summary>
    /// The connect side of SocketBase.Connect for a protocol NetMQ does not know: a connect session with the socket's
    /// options and, unless DelayAttachOnConnect, its pipe pair attached at once (so messages queue before the first
    /// connection and across reconnects), launched as a child of the socket. Socket's thread, lock held. The session's
    /// StartConnecting does nothing for the "vmci" protocol: engines come from <see cref="AttachToSession"/>. The session
    /// is held (one extra sequence number) until <see cref="Release"/>, so that a later attach can never reach it destroyed.
    /// </summary>
    public (object Session, object? Pipe) OpenConnectSession(object socketBase, string address)
    {
        var options = _ownOptions.GetValue(socketBase)!;
        var session = CreateSession(socketBase, socketBase, options, connect: true, address);
        object? socketEnd = null;
        var type = (ZmqSocketType)_socketType.GetValue(options)!;
        if (!(bool)_delayAttachOnConnect.GetValue(options)! || type.ToString() == "Peer")
        {
            var parents = Array.CreateInstanceFromArrayType(_zobjectArray, 2);
            parents.SetValue(socketBase, 0);
            parents.SetValue(session, 1);
            var marks = _watermarks.Select(p => (int)p.GetValue(options)!).ToArray();
            var pipes = (Array)Call(_pipePair, null, parents, new[] { marks[0], marks[1] }, new[] { marks[2], marks[3] })!;
            socketEnd = pipes.GetValue(0);
            Call(_socketAttachPipe, socketBase, socketEnd, false);
            Call(_sessionAttachPipe, session, pipes.GetValue(1));
        }
        Call(_incSeqnum, session);
        Call(_launchChild, socketBase, session);
        return (session, socketEnd);
    }

    /// <summary>
    /// The bind side: a session without pipe or engine that owns the sessions of accepted connections, as NetMQ's
    /// TcpListener does, launched as a child of the socket (socket's thread, lock held) and held until <see cref="Release"/>.
    /// </summary>
    public object OpenListenerAnchor(object socketBase, string address)
    {
        var options = _ownOptions.GetValue(socketBase)!;
        var anchor = CreateSession(socketBase, socketBase, options, connect: false, address);
        Call(_incSeqnum, anchor);
        Call(_launchChild, socketBase, anchor);
        return anchor;
    }

    /// <summary>
    /// TcpListener.InCompleted for a connected stream socket, on any thread: a StreamEngine on it, a transient session
    /// launched as a child of <paramref name="anchor"/>, the engine attached. Returns the engine and its AsyncIO socket.
    /// </summary>
    public (object Engine, AsyncIO.AsyncSocket Native) AttachAccepted(object socketBase, object anchor, Socket connected, string endpoint)
    {
        var options = _ownOptions.GetValue(socketBase)!;
        var (engine, native) = CreateEngine(connected, options, endpoint);
        var session = CreateSession(anchor, socketBase, options, connect: false, endpoint);
        Call(_incSeqnum, session);
        Call(_launchChild, anchor, session);
        Call(_sendAttach, anchor, session, engine, false);
        Call(_eventAccepted, socketBase, endpoint, native);
        return (engine, native);
    }

    /// <summary>TcpConnector.OutCompleted for a connected stream socket, on any thread: a StreamEngine attached to the connect session. Returns the engine and its AsyncIO socket.</summary>
    public (object Engine, AsyncIO.AsyncSocket Native) AttachToSession(object socketBase, object session, Socket connected, string endpoint)
    {
        var options = _ownOptions.GetValue(socketBase)!;
        var (engine, native) = CreateEngine(connected, options, endpoint);
        Call(_sendAttach, session, session, engine, true);
        Call(_eventConnected, socketBase, endpoint, native);
        return (engine, native);
    }

    /// <summary>
    /// SocketBase.TermEndpoint for one of ours (socket's thread, lock held): pending commands first (the Own of a just
    /// launched session), then the socket-side pipe dropped (disconnect drops what is queued, as NetMQ's does) and the
    /// child terminated with the socket's linger.
    /// </summary>
    public void Terminate(object socketBase, object own, object? pipe)
    {
        Call(_processCommands, socketBase, 0, false, CancellationToken.None);
        if (pipe is not null)
            Call(_pipeTerminate, pipe, false);
        Call(_termChild, socketBase, own);
    }

    /// <summary>Releases the hold of an anchor or connect session (after its last attach): a Plug command, harmless for a plugged session, that balances the extra sequence number.</summary>
    public void Release(object own) => Call(_sendPlug, own, own, false);

    /// <summary>True once the session is past its linger and terminating (Own.m_terminating; read from another thread).</summary>
    public bool IsTerminating(object own) => (bool)_ownTerminating.GetValue(own)!;

    /// <summary>True once the engine's ZMTP handshake is complete (its security mechanism is ready; ZMTP 1.0/2.0 peers have none).</summary>
    public bool HandshakeDone(object engine) => _engineMechanism.GetValue(engine) is { } mechanism
        ? Equals(_mechanismStatus.GetValue(mechanism), _mechanismReady)
        : Equals(_engineState.GetValue(engine), _engineActive);

    /// <summary>True for a raw socket (STREAM): no ZMTP handshake at all.</summary>
    public bool IsRaw(object socketBase) => (bool)_rawSocket.GetValue(_ownOptions.GetValue(socketBase)!)!;

    /// <summary>Sets the socket's LAST_ENDPOINT (Options.LastEndpoint), as SocketBase.Bind/Connect do.</summary>
    public void SetLastEndpoint(object socketBase, string endpoint) => _lastEndpoint.SetValue(_ownOptions.GetValue(socketBase)!, endpoint);

    /// <summary>The completion port NetMQ's I/O thread associated the socket with (null until the engine is plugged).</summary>
    public AsyncIO.CompletionPort? CompletionPortOf(AsyncIO.AsyncSocket native) => (AsyncIO.CompletionPort?)_nativePort.GetValue(native);

    /// <summary>Where the socket queues its completions from now on (NativeSocket.m_completionPort, read at each completion).</summary>
    public void SetCompletionPort(AsyncIO.AsyncSocket native, AsyncIO.CompletionPort port) => _nativePort.SetValue(native, port);

    /// <summary>Queues a completion to a port (DotNet.CompletionPort.Queue): NetMQ's I/O thread then hands it to the engine.</summary>
    public void Forward(AsyncIO.CompletionPort port, AsyncIO.CompletionStatus status) => Call(_portQueue, port, status);

    private object CreateSession(object chooser, object socketBase, object options, bool connect, string address)
    {
        var io = Call(_chooseIOThread, chooser, (long)_affinity.GetValue(options)!)
            ?? throw NetMQException.Create(ErrorCode.EmptyThread);
        return Call(_sessionCreate, null, io, connect, socketBase, options, _address.Invoke(["vmci", address]))!;
    }

    /// <summary>
    /// AsyncIO's NativeSocket over <paramref name="connected"/> (its private constructor takes any connected stream socket)
    /// and NetMQ's StreamEngine on it. Completions run inline on .NET's epoll thread (NativeSocket only queues them to the
    /// I/O thread), and an error NetMQ's engine does not expect becomes ECONNRESET before the engine sees it (see
    /// <see cref="Sanitize"/>).
    /// </summary>
    private (object Engine, AsyncIO.AsyncSocket Native) CreateEngine(Socket connected, object options, string endpoint)
    {
        PreferInlineCompletions(connected);
        var native = (AsyncIO.AsyncSocket)_nativeSocket.Invoke([connected]);
        var completed = (EventHandler<SocketAsyncEventArgs>)Delegate.CreateDelegate(typeof(EventHandler<SocketAsyncEventArgs>), native, _nativeCompleted);
        foreach (var field in (ReadOnlySpan<FieldInfo>)[_nativeIn, _nativeOut])
        {
            var args = (SocketAsyncEventArgs)field.GetValue(native)!;
            args.Completed -= completed;
            args.Completed += Sanitize;
            args.Completed += completed;
        }
        return (_streamEngine.Invoke([native, options, endpoint]), native);
    }

    /// <summary>
    /// StreamEngine.EndRead/EndWrite throw a NetMQException on NetMQ's I/O thread — which ends the process — for an error
    /// outside their list when bytes were transferred too (a send that progressed, then failed with, say, ENOTCONN after a
    /// vsock transport reset). Runs before NativeSocket's own handler of an asynchronous completion.
    /// </summary>
    private static void Sanitize(object? sender, SocketAsyncEventArgs e)
    {
        if (e.SocketError is not (SocketError.Success or SocketError.NetworkDown or SocketError.NetworkReset or SocketError.HostUnreachable
            or SocketError.ConnectionAborted or SocketError.TimedOut or SocketError.ConnectionReset or SocketError.AccessDenied or SocketError.Shutdown))
            e.SocketError = SocketError.ConnectionReset;
    }

    private static object? Call(MethodInfo method, object? target, params object?[] arguments) =>
        method.Invoke(target, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
}
