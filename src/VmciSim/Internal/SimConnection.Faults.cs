using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// The fault interposition point. With no fault in the fabric, Send and Receive are direct socket calls (one volatile
/// read decides). Otherwise this end applies the faults of its machine pair itself — the receiver delays (latency,
/// bandwidth), both ends wait while the pair is stalled (partition, pause), a reset fails both ends with
/// ECONNRESET — so faults work across processes without a proxy: each process reads the same control file. A
/// connection whose socket was handed over applies the same rules through <see cref="DeliverAsync"/> (the traffic gate).
/// </summary>
internal sealed partial class SimConnection : IFaultTarget
{
    private readonly FaultState _faults;
    private readonly uint _machine;
    private readonly uint _peerMachine;
    private readonly VsockAddress _service;
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

    public SimFault? ResetBy(FaultSet set) => _resetBy is null ? set.ResetSince(_machine, _peerMachine, _service, _createdUtc) : null;

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
        ? _faults.Current.ResetSince(_machine, _peerMachine, _service, _createdUtc)
        : null);

    public void ThrowIfReset()
    {
        // The fault set is installed before its resets are applied one connection after the other: an end of stream caused by
        // the peer's reset can arrive before this end's own turn, so the set itself is asked too.
        if ((_resetBy ?? (_faults.Active ? _faults.Current.ResetSince(_machine, _peerMachine, _service, _createdUtc) : null)) is { } fault)
            throw ResetError(fault, VmciOperation.Receive, null);
    }

    private VmciException ResetError(SimFault fault, VmciOperation operation, Exception? inner) =>
        VmciError.Create(Errno.ECONNRESET, operation, Endpoint, $"reset by the simulator's fault {fault}", inner);

    public bool IsActive => _faults.Active && _faults.Current.ActsOnBytes(_machine, _peerMachine, _service);

    Task IVsockTrafficGate.Changed => _faults.Changed;

    public ValueTask DeliverAsync(int bytes, bool received, CancellationToken cancellationToken = default) =>
        _faults.Active || _resetBy is not null ? PassAsync(bytes, received, cancellationToken) : ValueTask.CompletedTask;

    private async ValueTask PassAsync(int bytes, bool received, CancellationToken cancellationToken)
    {
        try
        {
            await _faults.WaitWhileStalledAsync(_machine, _peerMachine, _service, this, cancellationToken).ConfigureAwait(false);
            if (!received || bytes <= 0)
                return;
            var set = _faults.Current;
            var delay = 0.0;
            if (set.Latency(_machine, _peerMachine, _service) is { } latency)
                delay = latency.LatencyMilliseconds + ((Random.Shared.NextDouble() * 2) - 1) * latency.JitterMilliseconds;
            if (set.BytesPerSecond(_machine, _peerMachine, _service) is > 0 and var rate)
                delay += bytes * 1000.0 / rate;
            if (delay >= 1)
            {
                await Delay.AtLeastAsync(TimeSpan.FromMilliseconds(delay), cancellationToken).ConfigureAwait(false);
                // Bytes that arrive while the pair is stalled are held back (in flight) until it moves again.
                await _faults.WaitWhileStalledAsync(_machine, _peerMachine, _service, this, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            throw Translate(e, received ? VmciOperation.Receive : VmciOperation.Send);
        }
    }

    private async ValueTask<int> ReceiveWithFaultsAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _faults.WaitWhileStalledAsync(_machine, _peerMachine, _service, this, cancellationToken).ConfigureAwait(false);
            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            await PassAsync(read, received: true, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                ThrowIfReset();
            return read;
        }
        catch (Exception e)
        {
            throw Translate(e, VmciOperation.Receive);
        }
    }

    private async ValueTask SendWithFaultsAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                await _faults.WaitWhileStalledAsync(_machine, _peerMachine, _service, this, cancellationToken).ConfigureAwait(false);
                var sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (Exception e)
        {
            throw Translate(e, VmciOperation.Send);
        }
    }
}
