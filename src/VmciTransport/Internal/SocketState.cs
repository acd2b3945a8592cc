using System.Runtime.CompilerServices;
using NetMQ;

namespace Vmci.Transport.Internal;

/// <summary>
/// The vmci companion of one NetMQ socket: its options, its bound and connected vmci endpoints with their
/// relays, and what LAST_ENDPOINT should report. Found through a <see cref="ConditionalWeakTable{TKey, TValue}"/>;
/// a watcher tears the relays down once the socket is disposed or collected. NetMQ methods are called only by
/// the extension methods, on the caller's thread; the relays never touch the NetMQ socket.
/// </summary>
internal sealed class SocketState
{
    private static readonly ConditionalWeakTable<NetMQSocket, SocketState> States = new();
    private static readonly List<SocketState> Watched = [];
    private static readonly Lock WatchGate = new();
    private static Timer? s_watcher;

    private readonly WeakReference<NetMQSocket> _socket;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, BindRelay> _binds = new(StringComparer.Ordinal);
    private readonly List<(string Original, ConnectRelay Relay)> _connects = [];

    private SocketState(NetMQSocket socket) => _socket = new WeakReference<NetMQSocket>(socket);

    /// <summary>The socket's vmci options.</summary>
    public VmciSocketOptions Options { get; } = new();

    /// <summary>
    /// The socket's linger as of its last vmci bind/connect (NetMQ's options cannot be read once it is disposed):
    /// how long its relays keep forwarding after disposal. Capped at <see cref="MaxDrain"/>.
    /// </summary>
    public TimeSpan Linger { get; set; }

    /// <summary>The longest a disposed socket's relays drain (NetMQ's linger -1 means "forever").</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(30);

    /// <summary>The NetMQ LAST_ENDPOINT of the last vmci bind/connect and the vmci string to report instead.</summary>
    public (string Tcp, string Vmci)? Last { get; set; }

    /// <summary>The state of <paramref name="socket"/>, created on first use.</summary>
    public static SocketState Of(NetMQSocket socket) => States.GetValue(socket, s => new SocketState(s));

    /// <summary>The state of <paramref name="socket"/> if it ever had one.</summary>
    public static SocketState? Find(NetMQSocket socket) => States.TryGetValue(socket, out var state) ? state : null;

    /// <summary>Registers a bind under its resolved endpoint string.</summary>
    public void AddBind(string resolved, BindRelay relay)
    {
        lock (_gate)
            _binds.Add(resolved, relay);
        Watch(this);
    }

    /// <summary>Removes and returns the bind registered under exactly <paramref name="resolved"/>.</summary>
    public BindRelay? RemoveBind(string resolved)
    {
        lock (_gate)
            return _binds.Remove(resolved, out var relay) ? relay : null;
    }

    /// <summary>The bind registered under exactly <paramref name="resolved"/>, if any (tests, diagnostics).</summary>
    public BindRelay? FindBind(string resolved)
    {
        lock (_gate)
            return _binds.GetValueOrDefault(resolved);
    }

    /// <summary>Registers a connect under the ORIGINAL endpoint string.</summary>
    public void AddConnect(string original, ConnectRelay relay)
    {
        lock (_gate)
            _connects.Add((original, relay));
        Watch(this);
    }

    /// <summary>Removes and returns every connect registered under exactly <paramref name="original"/>.</summary>
    public List<ConnectRelay> RemoveConnects(string original)
    {
        lock (_gate)
        {
            var found = _connects.Where(c => c.Original == original).Select(c => c.Relay).ToList();
            _connects.RemoveAll(c => c.Original == original);
            return found;
        }
    }

    /// <summary>The connects registered under exactly <paramref name="original"/> (tests, diagnostics).</summary>
    public ConnectRelay[] FindConnects(string original)
    {
        lock (_gate)
            return [.. _connects.Where(c => c.Original == original).Select(c => c.Relay)];
    }

    /// <summary>True while any relay is registered.</summary>
    public bool HasRelays
    {
        get
        {
            lock (_gate)
                return _binds.Count > 0 || _connects.Count > 0;
        }
    }

    /// <summary>Closes every relay (the socket is gone), letting each drain for the socket's linger.</summary>
    public void CloseAll()
    {
        var linger = Linger < TimeSpan.Zero || Linger > MaxDrain ? MaxDrain : Linger;
        List<RelayBase> relays;
        lock (_gate)
        {
            relays = [.. _binds.Values, .. _connects.Select(c => c.Relay)];
            _binds.Clear();
            _connects.Clear();
        }
        Parallel.ForEach(relays, relay => relay.Close(linger));
    }

    private bool SocketIsGone => !_socket.TryGetTarget(out var socket) || socket.IsDisposed;

    private static void Watch(SocketState state)
    {
        lock (WatchGate)
        {
            if (!Watched.Contains(state))
                Watched.Add(state);
            s_watcher ??= new Timer(_ => Sweep(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
            if (!s_exitHooked)
            {
                s_exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => WaitForDrains();
            }
        }
    }

    // NetMQ has no disposal event; reading IsDisposed (a plain flag) from the timer is the only contact with the socket.
    private static void Sweep()
    {
        List<SocketState> gone;
        lock (WatchGate)
        {
            gone = Watched.Where(s => s.SocketIsGone).ToList();
            Watched.RemoveAll(s => gone.Contains(s) || !s.HasRelays);
            if (Watched.Count == 0)
            {
                s_watcher?.Dispose();
                s_watcher = null;
            }
        }
        foreach (var state in gone)
            StartDrain(state);
    }

    // Relays of disposed sockets drain in the background; a process that ends normally waits for them (bounded),
    // as NetMQ's own linger would, so a program may send, dispose and return from Main without losing messages.
    private static readonly List<Task> Draining = [];
    private static bool s_exitHooked;

    private static void StartDrain(SocketState state)
    {
        lock (WatchGate)
        {
            Draining.RemoveAll(t => t.IsCompleted);
            Draining.Add(Task.Run(state.CloseAll));
        }
    }

    private static void WaitForDrains()
    {
        Task[] pending;
        lock (WatchGate)
        {
            foreach (var state in Watched.Where(s => s.SocketIsGone).ToList())
            {
                Watched.Remove(state);
                Draining.Add(Task.Run(state.CloseAll));
            }
            pending = [.. Draining];
        }
        Task.WhenAll(pending).Wait(MaxDrain);
    }
}
