using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>What both relay sides share: the set of live <see cref="RelayPair"/>s and an orderly, idempotent teardown.</summary>
internal abstract class RelayBase : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<RelayPair> _pairs = [];
    private readonly List<Task> _loops = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Cancelled when the relay is disposed.</summary>
    protected CancellationToken Stopping { get; }

    protected RelayBase() => Stopping = _stopping.Token;

    /// <summary>The number of live connection pairs.</summary>
    public int PairCount
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

    /// <summary>Closes the listener, resets every pair and waits (bounded) for the background loops to end.</summary>
    public void Dispose()
    {
        RelayPair[] pairs;
        Task[] loops;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            pairs = [.. _pairs];
            loops = [.. _loops];
        }
        _stopping.Cancel();
        CloseListener();
        foreach (var pair in pairs)
            pair.Abort();
        try
        {
            Task.WaitAll(loops, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // A loop that failed has ended too; its sockets are closed above.
        }
        _stopping.Dispose();
    }

    /// <summary>
    /// Closes like a NetMQ socket with linger: no new connections, then up to <paramref name="linger"/> for each pair
    /// to forward what NetMQ still flushes into it (NetMQ closes its side once flushed), then <see cref="Dispose"/>.
    /// </summary>
    public void Close(TimeSpan linger)
    {
        if (linger > TimeSpan.Zero)
        {
            RelayPair[] pairs;
            lock (_gate)
            {
                if (_disposed)
                    return;
                pairs = [.. _pairs];
            }
            _stopping.Cancel();
            CloseListener();
            Task.WhenAll(pairs.Select(p => p.Upstream)).Wait(linger);
        }
        Dispose();
    }

    /// <summary>Closes the listening socket so that pending accepts end (called at most twice; idempotent).</summary>
    protected abstract void CloseListener();

    /// <summary>Remembers a background loop so that <see cref="Dispose"/> can wait for it.</summary>
    protected void Track(Task loop)
    {
        lock (_gate)
        {
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(loop);
        }
    }

    /// <summary>Pairs <paramref name="tcp"/> with <paramref name="vsock"/> and starts pumping; resets both if the relay is already closing.</summary>
    protected void Adopt(Socket tcp, IVsockConnection vsock)
    {
        var pair = new RelayPair(tcp, vsock, Forget);
        lock (_gate)
        {
            if (!_disposed)
            {
                _pairs.Add(pair);
                pair.Start();
                return;
            }
        }
        pair.Abort();
    }

    private void Forget(RelayPair pair)
    {
        lock (_gate)
            _pairs.Remove(pair);
    }
}
