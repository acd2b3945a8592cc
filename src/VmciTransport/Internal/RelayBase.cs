using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// What both relay sides share: the set of live <see cref="RelayPair"/>s, the background loops, an orderly idempotent
/// teardown, and the linger drain after the NetMQ socket is disposed (<see cref="IEndpoint.OnSocketGone"/>).
/// </summary>
internal abstract class RelayBase : ILingering, IDisposable
{
    // How often a drain looks again while nothing it waits for has ended (a pair's end of stream is seen by polling).
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<RelayPair> _pairs = [];
    private readonly List<Task> _loops = [];
    private readonly Lock _gate = new();
    private bool _disposed;
    private Task? _drain;

    /// <summary>Cancelled when the relay is disposed (not when it starts draining).</summary>
    protected CancellationToken Stopping { get; }

    protected RelayBase(TimeSpan linger)
    {
        Stopping = _stopping.Token;
        Linger = Cap(linger);
    }

    /// <summary>
    /// How long a drain after the socket's disposal may take: its linger, capped at <see cref="SocketState.MaxDrain"/>;
    /// the value at bind/connect time until <see cref="SetLinger"/> gives the one the socket had when it was disposed.
    /// </summary>
    protected TimeSpan Linger { get; private set; }

    /// <summary>The socket's linger when it was disposed (a program commonly sets it just before Dispose); before the drain starts.</summary>
    public void SetLinger(TimeSpan linger)
    {
        lock (_gate)
        {
            if (_drain is null)
                Linger = Cap(linger);
        }
    }

    internal static TimeSpan Cap(TimeSpan linger) => linger < TimeSpan.Zero || linger > SocketState.MaxDrain ? SocketState.MaxDrain : linger;

    /// <summary>The number of live connection pairs.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_gate)
                return _pairs.Count;
        }
    }

    /// <summary>The live pairs (a copy), for tests and diagnostics.</summary>
    public RelayPair[] Pairs
    {
        get
        {
            lock (_gate)
                return [.. _pairs];
        }
    }

    /// <summary>The vmci connections of the live pairs.</summary>
    public IVsockConnection[] Connections => [.. Pairs.Select(p => p.Vsock)];

    /// <summary>
    /// Closes the listener and resets every pair. The background loops end on their own: <see cref="Adopt"/> looks at
    /// <c>_disposed</c> under the lock, so no pair is added after this; nothing blocks a pool thread waiting for them.
    /// </summary>
    public void Dispose()
    {
        RelayPair[] pairs;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            pairs = [.. _pairs];
        }
        _stopping.Cancel();
        CloseListener();
        foreach (var pair in pairs)
            pair.Abort();
    }

    /// <summary>The socket is gone: drain for its linger in the background (first call), true once done.</summary>
    public bool OnSocketGone()
    {
        lock (_gate)
            _drain ??= Task.Run(DrainAsync);
        return _drain.IsCompleted;
    }

    /// <summary>
    /// Closes like a NetMQ socket with linger: no new peers (<see cref="OnDrainStart"/>), then up to the linger for
    /// connections still being made (linger covers them, SPEC §8) and for each pair to forward what NetMQ still flushes
    /// into it (NetMQ closes its side once flushed), then <see cref="Dispose"/>.
    /// </summary>
    /// <remarks>
    /// Asynchronous: a drain may last the whole linger (30 s at most), and one that held a pool thread that long — one per
    /// lingering relay — could starve the very continuations it waits for on a small machine.
    /// </remarks>
    private async Task DrainAsync()
    {
        OnDrainStart();
        var deadline = DateTime.UtcNow + Linger;
        while (!Drained() && deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero)
        {
            Task[] pending;
            lock (_gate)
            {
                if (_disposed)
                    return;
                pending = [.. Pending(), Task.Delay(left < Poll ? left : Poll)];
            }
            await Task.WhenAny(pending).ConfigureAwait(false); // an ending task is looked at again on the next round
        }
        Dispose();
    }

    /// <summary>True when nothing is left to forward: no connection is being made, every pair has passed on NetMQ's end of stream.</summary>
    protected virtual bool Drained()
    {
        lock (_gate)
            return !Pending().Any();
    }

    // Under _gate.
    private IEnumerable<Task> Pending() =>
        [.. _loops.Where(t => !t.IsCompleted), .. _pairs.Select(p => p.Upstream).Where(t => !t.IsCompleted)];

    /// <summary>Closes the listening socket so that pending accepts end (idempotent; the port is free when it returns).</summary>
    public abstract void CloseListener();

    /// <summary>The socket is gone and the drain begins: a bind stops taking peers; a connect keeps its listener, which NetMQ's lingering session may still (re)connect to.</summary>
    protected abstract void OnDrainStart();

    /// <summary>
    /// Starts the accept loop (not one of the loops the drain waits for: it ends when the listener closes). A loop that
    /// fails is logged (an accept loop that dies unseen leaves NetMQ's connections unserved).
    /// </summary>
    protected static void StartAccepting(Func<Task> loop, string endpoint) =>
        _ = Task.Run(loop).ContinueWith(t => TransportLog.Logger.LoopFailed("accept", endpoint, t.Exception!.InnerException ?? t.Exception),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Remembers a background loop so that <see cref="Dispose"/> and the drain can wait for it.</summary>
    protected void Track(Task loop)
    {
        lock (_gate)
        {
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(loop);
        }
    }

    /// <summary>Pairs <paramref name="tcp"/> with <paramref name="vsock"/> and starts pumping; resets both if the relay is already closed.</summary>
    protected RelayPair? Adopt(Socket tcp, IVsockConnection vsock)
    {
        var pair = new RelayPair(tcp, vsock, Forget, takeSocket: true);
        lock (_gate)
        {
            if (!_disposed)
            {
                _pairs.Add(pair);
                pair.Start();
                return pair;
            }
        }
        pair.Abort();
        return null;
    }

    /// <summary>Resets a loopback TCP connection (linger 0: the peer sees a reset).</summary>
    protected static void Reset(Socket tcp)
    {
        try
        {
            tcp.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        tcp.Dispose();
    }

    private void Forget(RelayPair pair)
    {
        lock (_gate)
            _pairs.Remove(pair);
    }
}
