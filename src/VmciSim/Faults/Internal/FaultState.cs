using System.Collections.Concurrent;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// A process's view of one fabric's faults: the current <see cref="FaultSet"/>, refreshed from
/// <c>faults.json</c> at each connect and accept (when the file's mtime or length changed) and by a 100 ms poll that
/// runs only while this process has live connections or listeners in the fabric. No FileSystemWatcher: inotify
/// instances are limited (128 per user by default) and are not delivered for writes from other kernels (shared
/// folders), while a stat per connect and a 10 Hz poll cost nothing measurable. Shared by every
/// <see cref="SimFabric"/> object of the directory in this process.
/// </summary>
internal sealed class FaultState
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private static readonly ConcurrentDictionary<string, FaultState> ByDirectory = new(StringComparer.Ordinal);

    private readonly string _path;
    private readonly ConcurrentDictionary<IFaultTarget, byte> _targets = new();
    private readonly Lock _gate = new();
    private volatile FaultSet _current = FaultSet.Empty;
    private volatile TaskCompletionSource _changed = NewSignal();
    private (DateTime Modified, long Inode) _seen;
    private Timer? _poll;

    private FaultState(string path)
    {
        _path = path;
        Refresh();
    }

    public static FaultState For(string fabricDirectory) => ByDirectory.GetOrAdd(fabricDirectory, d => new FaultState(Path.Combine(d, "faults.json")));

    public string FilePath => _path;

    public FaultSet Current => _current;

    /// <summary>The fast-path test: false when no fault exists at all.</summary>
    public bool Active => _current.Faults.Count != 0;

    /// <summary>Completes at the next change of the fault set.</summary>
    public Task Changed => _changed.Task;

    /// <summary>Re-reads the file when its mtime or inode changed (one lstat otherwise: every version is a new file, renamed into place).</summary>
    public FaultSet Refresh()
    {
        var stamp = UnixFiles.TryStat(_path, out var status) == 0 ? (status.Modified, (long)status.Inode) : (DateTime.MinValue, 0L);
        if (stamp == _seen)
            return _current;
        FaultSet next;
        try
        {
            next = FaultFile.Read(_path);
        }
        catch (VmciException)
        {
            return _current; // half-written by a foreign tool: keep the last good version
        }
        _seen = stamp;
        Publish(next);
        return _current;
    }

    /// <summary>Installs a set this process just wrote (no wait for the poll).</summary>
    public void Publish(FaultSet next)
    {
        lock (_gate)
        {
            if (next.Version == _current.Version && next.Faults.Count == _current.Faults.Count)
                return;
            _current = next;
            _changed.TrySetResult();
            _changed = NewSignal();
        }
        foreach (var target in _targets.Keys)
        {
            if (target.ResetBy(next) is { } fault)
                target.ResetByFault(fault);
        }
    }

    /// <summary>Waits until the pair may move bytes; throws when <paramref name="target"/> was reset meanwhile.</summary>
    public async ValueTask WaitWhileStalledAsync(uint a, uint b, IFaultTarget? target, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = Changed;
            var set = _current;
            target?.ThrowIfReset();
            if (!set.IsStalled(a, b))
                return;
            if (target is null)
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            var closed = target.Closed;
            await Task.WhenAny(changed, closed).WaitAsync(cancellationToken).ConfigureAwait(false);
            ObjectDisposedException.ThrowIf(closed.IsCompleted, target);
        }
    }

    public void Register(IFaultTarget target)
    {
        _targets.TryAdd(target, 0);
        lock (_gate)
            _poll ??= new Timer(_ => Tick(), null, PollInterval, PollInterval);
    }

    public void Unregister(IFaultTarget target) => _targets.TryRemove(target, out _);

    private void Tick()
    {
        if (_targets.IsEmpty)
        {
            lock (_gate)
            {
                if (_targets.IsEmpty)
                {
                    _poll?.Dispose();
                    _poll = null;
                    return;
                }
            }
        }
        try
        {
            Refresh();
        }
        catch (IOException)
        {
            // The fabric went away (a test deleted it): nothing to apply.
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Something a fault can reach: a live connection (reset) or a listener (moved by a CID change).</summary>
internal interface IFaultTarget
{
    /// <summary>The fault of <paramref name="set"/> that resets this target now, or null.</summary>
    SimFault? ResetBy(FaultSet set);

    /// <summary>Applies a reset: pending and later operations fail with ECONNRESET.</summary>
    void ResetByFault(SimFault fault);

    /// <summary>Throws ECONNRESET when reset.</summary>
    void ThrowIfReset();

    /// <summary>Completes when the target is disposed (wakes operations stalled by a fault).</summary>
    Task Closed { get; }
}
