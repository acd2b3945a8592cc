using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// The fault interposition point. With no fault in the fabric, Send and Receive are direct socket calls (one volatile
/// read decides). Otherwise this end applies the faults of its machine pair itself — the sender delays (latency,
/// bandwidth), both ends wait while the pair is stalled (partition, pause), a reset fails both ends with
/// ECONNRESET — so faults work across processes without a proxy: each process reads the same control file.
/// </summary>
internal sealed partial class SimConnection : IFaultTarget
{
    private readonly FaultState _faults;
    private readonly uint _machine;
    private readonly uint _peerMachine;
    private readonly DateTime _createdUtc;
    private volatile SimFault? _resetBy;
    private TaskCompletionSource? _closed;

    public Task Closed
    {
        get
        {
            if (Volatile.Read(ref _closed) is null)
                Interlocked.CompareExchange(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            if (Volatile.Read(ref _disposed) != 0)
                _closed!.TrySetResult();
            return _closed!.Task;
        }
    }

    /// <summary>Called by Dispose: wakes operations stalled by a fault.</summary>
    private void SignalClosed() => Volatile.Read(ref _closed)?.TrySetResult();

    public SimFault? ResetBy(FaultSet set) => _resetBy is null ? set.ResetSince(_machine, _peerMachine, _createdUtc) : null;

    public void ResetByFault(SimFault fault)
    {
        _resetBy = fault;
        try
        {
            // Wakes pending receives and sends; they report ECONNRESET (Translate, AwaitReceive).
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <summary>
    /// The reset fault that applies to this connection, even one this end has not applied yet (the peer's end may see it
    /// first and close: this end then reads end of stream before its own reset); null when none.
    /// </summary>
    internal SimFault? PendingReset() => _resetBy ?? (_faults.Active || _faults.Refresh().Faults.Count != 0
        ? _faults.Current.ResetSince(_machine, _peerMachine, _createdUtc)
        : null);

    public void ThrowIfReset()
    {
        if (_resetBy is { } fault)
            throw ResetError(fault, "transfer", null);
    }

    private VmciException ResetError(SimFault fault, string operation, Exception? inner) =>
        VmciError.Create(Errno.ECONNRESET, operation, Endpoint, $"reset by the simulator's fault {fault}", inner);

    private async ValueTask<int> ReceiveWithFaultsAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _faults.WaitWhileStalledAsync(_machine, _peerMachine, this, cancellationToken).ConfigureAwait(false);
            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            // Bytes that arrive while the pair is stalled are held back (in flight) until it moves again.
            await _faults.WaitWhileStalledAsync(_machine, _peerMachine, this, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                ThrowIfReset();
            return read;
        }
        catch (Exception e)
        {
            throw Translate(e, "receive");
        }
    }

    private async ValueTask SendWithFaultsAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            var first = true;
            while (!buffer.IsEmpty)
            {
                await _faults.WaitWhileStalledAsync(_machine, _peerMachine, this, cancellationToken).ConfigureAwait(false);
                var set = _faults.Current;
                var delay = 0.0;
                if (first && set.Latency(_machine, _peerMachine) is { } latency)
                    delay = latency.LatencyMilliseconds + ((Random.Shared.NextDouble() * 2) - 1) * latency.JitterMilliseconds;
                var chunk = buffer;
                if (set.BytesPerSecond(_machine, _peerMachine) is > 0 and var rate)
                {
                    // At most 1/20 s worth of bytes per step, each step paid for in time.
                    chunk = buffer[..(int)Math.Min(buffer.Length, Math.Max(1, rate / 20))];
                    delay += chunk.Length * 1000.0 / rate;
                }
                first = false;
                if (delay >= 1)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(delay), cancellationToken).ConfigureAwait(false);
                    await _faults.WaitWhileStalledAsync(_machine, _peerMachine, this, cancellationToken).ConfigureAwait(false);
                }
                while (!chunk.IsEmpty)
                {
                    var sent = await _socket.SendAsync(chunk, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    chunk = chunk[sent..];
                    buffer = buffer[sent..];
                }
            }
        }
        catch (Exception e)
        {
            throw Translate(e, "send");
        }
    }
}
