namespace Vmci.TestKit.Agent;

/// <summary>
/// The other machine of a two-machine test (<c>vmci agent --bind vmci://*:PORT</c>): it listens on the transport under
/// test itself — a vsock stream, so it needs no network, as in a VMware guest, a QEMU guest or a <c>--network none</c>
/// container — and runs, on its own machine, what a client asks: listen, accept, connect, send and receive on vsock
/// streams and on NetMQ sockets with vmci endpoints. Every request is checked (sizes, counts, time limits), so a
/// careless or hostile client gets an error reply, never a crash or unbounded memory.
/// </summary>
public sealed class AgentServer : IAsyncDisposable
{
    /// <summary>How many control connections are served at once; more are closed at once.</summary>
    public const int MaxSessions = 16;

    /// <summary>The longest request line a session reads; a longer one gets an EMSGSIZE reply and the session ends.</summary>
    public const int MaxRequestLineBytes = AgentProtocol.MaxLineBytes;

    private readonly IVsockListener _listener;
    private readonly IVsockNetwork _network;
    private readonly TextWriter _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<AgentSession> _sessions = [];
    private readonly Task _accepting;

    private AgentServer(IVsockNetwork network, IVsockListener listener, TextWriter log)
    {
        _network = network;
        _listener = listener;
        _log = log;
        Machine = PeerMachine.Describe(network, listener.LocalAddress.ToString());
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address the agent listens on (the ephemeral port filled in).</summary>
    public VsockAddress Address => _listener.LocalAddress;

    /// <summary>The machine the agent runs on.</summary>
    public PeerMachine Machine { get; }

    /// <summary>Completes when the agent has stopped (after <see cref="DisposeAsync"/>).</summary>
    public Task Completion => _accepting;

    /// <summary>Binds <paramref name="address"/> on <paramref name="network"/> and starts serving.</summary>
    /// <param name="network">The backend the agent runs on (and tests through).</param>
    /// <param name="address">Where to listen, for example <c>vmci://*:*</c>.</param>
    /// <param name="log">Where each session's start and end are written; null for nowhere.</param>
    /// <exception cref="VmciException">What binding the address throws.</exception>
    public static AgentServer Start(IVsockNetwork network, VsockAddress address, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new AgentServer(network, network.Listen(address), log ?? TextWriter.Null);
    }

    /// <summary>Stops listening and ends every session (closing what it opened).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        AgentSession[] sessions;
        lock (_sessions)
            sessions = [.. _sessions];
        foreach (var session in sessions)
            session.Stop();
        await Task.WhenAll(sessions.Select(s => s.Completion)).ConfigureAwait(false);
        foreach (var session in sessions)
            session.Dispose();
        await _accepting.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            IVsockConnection control;
            try
            {
                control = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (VmciException)
            {
                if (_stopping.IsCancellationRequested)
                    return;
                continue;
            }
            lock (_sessions)
            {
                foreach (var ended in _sessions.Where(s => s.Completion.IsCompleted).ToList())
                {
                    ended.Dispose();
                    _sessions.Remove(ended);
                }
                if (_sessions.Count >= MaxSessions)
                {
                    control.Dispose();
                    continue;
                }
                var session = new AgentSession(_network, control, Machine, _log);
                _sessions.Add(session);
            }
        }
    }
}
