using System.Collections.Concurrent;
using AsyncIO;

namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// Simulator faults on a direct connection. NetMQ's engine reads and writes the handed-over socket itself, so the faults
/// that act on bytes (partition, pause, latency, bandwidth) are applied to what the engine is told: while the connection's
/// <see cref="IVsockTrafficGate"/> is active, its AsyncIO socket queues its completions to a staging port instead of the
/// I/O thread's, and each completion goes on to the I/O thread only when the gate lets it (received bytes wait for their
/// latency and bandwidth share, everything waits while stalled). Bytes held back stay in the engine's buffer, so nothing
/// is lost. With no fault the completions take NetMQ's own path — no cost at all.
/// </summary>
internal sealed class TrafficGate
{
    private static readonly Lazy<Staging> Shared = new(() => new Staging());
    private static int s_staged;
    private static long s_passed;

    private readonly NetMQInternals _hook;
    private readonly AsyncSocket _native;
    private readonly IVsockTrafficGate _gate;
    private readonly Task _closed;
    private CompletionPort? _port;
    private bool _staged;

    private TrafficGate(NetMQInternals hook, AsyncSocket native, IVsockTrafficGate gate, Task closed)
    {
        _hook = hook;
        _native = native;
        _gate = gate;
        _closed = closed;
    }

    /// <summary>Connections whose completions go through the staging port now (diagnostics, tests).</summary>
    public static int Staged => Volatile.Read(ref s_staged);

    /// <summary>Completions handed on through the staging port so far (diagnostics, tests).</summary>
    public static long Passed => Interlocked.Read(ref s_passed);

    /// <summary>Watches <paramref name="vsock"/>'s gate, if it has one, until <paramref name="closed"/> completes.</summary>
    public static void Watch(NetMQInternals hook, AsyncSocket native, IVsockConnection vsock, Task closed)
    {
        if (vsock is IVsockTrafficGate gate)
            _ = new TrafficGate(hook, native, gate, closed).WatchAsync();
    }

    private async Task WatchAsync()
    {
        try
        {
            while (!_closed.IsCompleted)
            {
                var changed = _gate.Changed;
                if (!await ApplyAsync(_gate.IsActive).ConfigureAwait(false))
                    return;
                await Task.WhenAny(changed, _closed).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_staged)
                Interlocked.Decrement(ref s_staged);
            Shared.Value.Forget(_native);
        }
    }

    private async Task<bool> ApplyAsync(bool active)
    {
        if (active == _staged)
            return true;
        if (active)
        {
            // NetMQ associates the socket with its I/O thread's port when the engine is plugged, just after the attach.
            for (var i = 0; (_port ??= _hook.CompletionPortOf(_native)) is null; i++)
            {
                if (i == 1000 || _closed.IsCompleted)
                    return false;
                await Task.Delay(1).ConfigureAwait(false);
            }
            Shared.Value.Register(_native, this);
            _hook.SetCompletionPort(_native, Shared.Value.Port);
            Interlocked.Increment(ref s_staged);
        }
        else
        {
            _hook.SetCompletionPort(_native, _port!);
            Interlocked.Decrement(ref s_staged);
        }
        _staged = active;
        return true;
    }

    // On the staging thread. The engine has at most one receive and one send outstanding, so completions of one
    // direction never overtake each other.
    private async Task PassAsync(CompletionStatus status)
    {
        try
        {
            await _gate.DeliverAsync(status.BytesTransferred, status.OperationType == OperationType.Receive).ConfigureAwait(false);
        }
        catch (Exception e) when (e is VmciException or ObjectDisposedException or OperationCanceledException)
        {
            // Reset or closed meanwhile: the socket is shut down; the engine learns it from its next operation.
        }
        _hook.Forward(_port!, status);
        Interlocked.Increment(ref s_passed);
    }

    /// <summary>The staging port and the one thread that drains it.</summary>
    private sealed class Staging
    {
        private readonly ConcurrentDictionary<AsyncSocket, TrafficGate> _gates = new(ReferenceEqualityComparer.Instance);

        public Staging()
        {
            Port = CompletionPort.Create();
            new Thread(Drain) { IsBackground = true, Name = "vmci fault gate" }.Start();
        }

        public CompletionPort Port { get; }

        public void Register(AsyncSocket native, TrafficGate gate) => _gates[native] = gate;

        public void Forget(AsyncSocket native) => _gates.TryRemove(native, out _);

        private void Drain()
        {
            while (true)
            {
                if (Port.GetQueuedCompletionStatus(-1, out var status) && status.AsyncSocket is { } socket && _gates.TryGetValue(socket, out var gate))
                    _ = gate.PassAsync(status);
                // A completion of a socket that is gone (its engine closed it) is dropped: NetMQ would ignore it too.
            }
        }
    }
}
