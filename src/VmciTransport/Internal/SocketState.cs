using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using NetMQ;

namespace Vmci.Transport.Internal;

/// <summary>
/// The vmci companion of one NetMQ socket: its options, its vmci binds (by resolved string) and connects (by original
/// string) in either mode, and, for the relay, what LAST_ENDPOINT reports. Found through a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/>. NetMQ has no disposal event, so a sweeper (every
/// <see cref="SweepInterval"/> while any socket has vmci endpoints) reads each socket's IsDisposed flag — the only contact
/// with the socket outside the caller's thread — closes the listeners of a disposed socket and lets each endpoint finish
/// (<see cref="IEndpoint.OnSocketGone"/>). A vmci bind in this process sweeps first, so an immediate rebind after Dispose
/// never meets the old listener.
/// </summary>
internal sealed class SocketState
{
    /// <summary>How often disposed sockets are looked for.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest a disposed socket's relays drain (NetMQ's linger -1 means "forever").</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(30);

    private static readonly ConditionalWeakTable<object, SocketState> States = new();
    private static readonly List<SocketState> Watched = [];
    private static readonly Lock WatchGate = new();
    private static readonly Lock SweepGate = new();
    private static Timer? s_sweeper;
    private static bool s_exitHooked;

    private readonly WeakReference<object> _socket;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, IBindEndpoint> _binds = new(StringComparer.Ordinal);
    private readonly List<(string Original, IConnectEndpoint Endpoint)> _connects = [];
    private List<IEndpoint>? _closing;

    // NetMQ's own options object of the socket (SocketBase.m_options): the linger set last lives there, and it stays
    // readable when the NetMQSocket wrapper has been disposed and even collected (a using block, then a GC before the
    // sweep) — the weak reference alone would then lose the linger set just before Dispose.
    private readonly object? _netMqOptions;

    private SocketState(object socket)
    {
        _socket = new WeakReference<object>(socket);
        _netMqOptions = NetMqOptionsOf(socket);
    }

    /// <summary>The socket's vmci options.</summary>
    public VmciSocketOptions Options { get; } = new();

    /// <summary>
    /// The socket's linger as of its last vmci bind/connect, for drains when the linger it had at its disposal cannot be
    /// read (<see cref="FinalLinger"/>: NetMQ's public options refuse a disposed socket).
    /// </summary>
    public TimeSpan Linger { get; set; }

    /// <summary>Relay mode: the NetMQ LAST_ENDPOINT of the last vmci bind/connect and the vmci string to report instead.</summary>
    public (string Tcp, string Vmci)? Last { get; set; }

    /// <summary>The state of <paramref name="socket"/>, created on first use.</summary>
    public static SocketState Of(object socket) => States.GetValue(socket, s => new SocketState(s));

    /// <summary>The state of <paramref name="socket"/> if it ever had one.</summary>
    public static SocketState? Find(object socket) => States.TryGetValue(socket, out var state) ? state : null;

    /// <summary>Registers a bind under its resolved endpoint string.</summary>
    public void AddBind(string resolved, IBindEndpoint endpoint)
    {
        lock (_gate)
            _binds.Add(resolved, endpoint);
        Watch(this);
    }

    /// <summary>Removes and returns the bind registered under exactly <paramref name="resolved"/>.</summary>
    public IBindEndpoint? RemoveBind(string resolved)
    {
        lock (_gate)
            return _binds.Remove(resolved, out var endpoint) ? endpoint : null;
    }

    /// <summary>The bind registered under exactly <paramref name="resolved"/>, if any (tests, diagnostics).</summary>
    public IBindEndpoint? FindBind(string resolved)
    {
        lock (_gate)
            return _binds.GetValueOrDefault(resolved);
    }

    /// <summary>Registers a connect under the ORIGINAL endpoint string.</summary>
    public void AddConnect(string original, IConnectEndpoint endpoint)
    {
        lock (_gate)
            _connects.Add((original, endpoint));
        Watch(this);
    }

    /// <summary>Removes and returns every connect registered under exactly <paramref name="original"/>.</summary>
    public List<IConnectEndpoint> RemoveConnects(string original)
    {
        lock (_gate)
        {
            var found = _connects.Where(c => c.Original == original).Select(c => c.Endpoint).ToList();
            _connects.RemoveAll(c => c.Original == original);
            return found;
        }
    }

    /// <summary>The connects registered under exactly <paramref name="original"/> (tests, diagnostics, single-connect types).</summary>
    public IConnectEndpoint[] FindConnects(string original)
    {
        lock (_gate)
            return [.. _connects.Where(c => c.Original == original).Select(c => c.Endpoint)];
    }

    /// <summary>True while any bind or connect is registered, or a disposed socket's endpoints are still finishing.</summary>
    public bool HasEndpoints
    {
        get
        {
            lock (_gate)
                return _binds.Count > 0 || _connects.Count > 0 || _closing is { Count: > 0 };
        }
    }

    /// <summary>True while any socket's vmci endpoints are watched (tests wait for the sweeper to be done).</summary>
    internal static bool Sweeping
    {
        get
        {
            lock (WatchGate)
                return Watched.Count > 0;
        }
    }

    /// <summary>
    /// Finds disposed sockets now, closes their listeners and moves their endpoints on (the sweeper's tick; also called by
    /// a vmci bind, so that an immediate rebind in this process finds the port free).
    /// </summary>
    public static void Sweep()
    {
        lock (SweepGate)
            SweepNow();
    }

    // The timer's tick: skipped while a sweep is under way. Timer callbacks overlap when one runs longer than the interval;
    // waiting for the gate, each would hold a pool thread — fifty a second behind one slow sweep, the starvation of the
    // very continuations (relay attempts, drains) the sweep lets finish.
    private static void Tick()
    {
        if (!SweepGate.TryEnter())
            return;
        try
        {
            SweepNow();
        }
        finally
        {
            SweepGate.Exit();
        }
    }

    // Under SweepGate.
    private static void SweepNow()
    {
        SocketState[] watched;
        lock (WatchGate)
            watched = [.. Watched];
        foreach (var state in watched)
        {
            if (state.Advance())
            {
                lock (WatchGate)
                    Watched.Remove(state);
            }
        }
        lock (WatchGate)
        {
            if (Watched.Count == 0)
            {
                s_sweeper?.Dispose();
                s_sweeper = null;
            }
        }
    }

    private bool SocketIsGone => !_socket.TryGetTarget(out var socket) || socket switch
    {
        NetMQSocket s => s.IsDisposed,
        ThreadSafeSocket t => t.IsDisposed,
        _ => true,
    };

    /// <summary>One sweep step for this state; true when nothing is left to watch.</summary>
    private bool Advance()
    {
        if (!SocketIsGone)
            return !HasEndpoints;
        List<IEndpoint> closing;
        lock (_gate)
        {
            if (_closing is null)
            {
                _closing = [.. _binds.Values, .. _connects.Select(c => c.Endpoint)];
                _binds.Clear();
                _connects.Clear();
                // Linger covers what the socket still had to send (SPEC §8) with the value set last, often just before Dispose.
                var linger = FinalLinger() ?? Linger;
                foreach (var lingering in _closing.OfType<ILingering>())
                    lingering.SetLinger(linger);
                // Listeners first and at once: the port is free before anything lingers.
                foreach (var bind in _closing.OfType<IBindEndpoint>())
                    bind.CloseListener();
            }
            closing = [.. _closing];
        }
        var finished = closing.Where(e => e.OnSocketGone()).ToList();
        lock (_gate)
        {
            _closing.RemoveAll(finished.Contains);
            return _closing.Count == 0;
        }
    }

    /// <summary>
    /// The linger of the disposed socket, read from NetMQ's internal options (SocketBase.m_options.Linger, milliseconds,
    /// -1 forever), which survive the disposal; null when this NetMQ keeps it elsewhere.
    /// </summary>
    internal TimeSpan? FinalLinger()
    {
        if (_netMqOptions is null || LingerReader.Value is not var (_, _, linger))
            return null;
        try
        {
            return linger(_netMqOptions) is int ms ? ms < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms) : null;
        }
        catch (Exception e) when (e is TargetException or MemberAccessException or InvalidCastException)
        {
            return null;
        }
    }

    private static object? NetMqOptionsOf(object socket)
    {
        if (socket is not NetMQSocket netMq || LingerReader.Value is not var (handle, options, _))
            return null;
        try
        {
            return handle.GetValue(netMq) is { } socketBase ? options.GetValue(socketBase) : null;
        }
        catch (Exception e) when (e is TargetException or MemberAccessException or InvalidCastException)
        {
            return null;
        }
    }

    private static readonly Lazy<(FieldInfo Handle, FieldInfo Options, Func<object, object?> Linger)?> LingerReader = new(FindLingerReader);

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "NetMQ's internals are looked up softly: when absent, the linger of the last bind/connect is used")]
    [UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "As above")]
    private static (FieldInfo, FieldInfo, Func<object, object?>)? FindLingerReader()
    {
        const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var handle = typeof(NetMQSocket).GetField("m_socketHandle", Members);
        var options = handle?.FieldType.BaseType?.GetField("m_options", Members) ?? handle?.FieldType.GetField("m_options", Members);
        if (handle is null || options is null)
            return null;
        if (options.FieldType.GetProperty("Linger", Members) is { PropertyType: var p } property && p == typeof(int))
            return (handle, options, property.GetValue);
        if (options.FieldType.GetField("Linger", Members) is { FieldType: var f } field && f == typeof(int))
            return (handle, options, field.GetValue);
        return null;
    }

    private static void Watch(SocketState state)
    {
        lock (WatchGate)
        {
            if (!Watched.Contains(state))
                Watched.Add(state);
            s_sweeper ??= new Timer(_ => Tick(), null, SweepInterval, SweepInterval);
            if (!s_exitHooked)
            {
                s_exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => WaitAtExit();
            }
        }
    }

    // A process that ends normally waits (bounded) for disposed sockets' endpoints to finish — relays draining for their
    // linger — so a program may send, dispose and return from Main without losing messages over the relay.
    private static void WaitAtExit()
    {
        var deadline = DateTime.UtcNow + MaxDrain;
        while (DateTime.UtcNow < deadline)
        {
            Sweep();
            lock (WatchGate)
            {
                if (!Watched.Any(s => s.SocketIsGone))
                    return;
            }
            Thread.Sleep(SweepInterval);
        }
    }
}
