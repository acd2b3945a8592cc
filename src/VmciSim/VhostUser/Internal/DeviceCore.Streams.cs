using System.Buffers;
using Vmci.Sim.Internal;
using Vmci.Sim.VhostUser.Linux;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// The bytes of each connection between the guest and its fabric end. While the fabric has no fault, the device
/// thread reads and writes the fabric's Unix sockets itself, non-blocking, and polls those that would block: no thread
/// pool hop per chunk (the pool's spinning workers would take the CPU a TCG guest needs). While any fault exists, each
/// read and send goes through the connection's <see cref="SimConnection"/>, which applies latency, bandwidth, stalls
/// and resets, and posts its result back. The two paths alternate freely: each direction has one operation at a time.
/// </summary>
internal sealed partial class DeviceCore
{
    private readonly HashSet<VsockConnection> _waiting = [];

    private bool FaultsActive => _network.Fabric.FaultState.Active;

    /// <summary>Reads what the guest has credit for, if the connection may read and is not reading already.</summary>
    private void StartRead(VsockConnection c)
    {
        if (c.State != ConnectionState.Connected || c.Reading || c.RxBuffer is not null || c.FabricEnded || c.GuestShutReceive)
            return;
        var credit = c.GuestCredit;
        if (credit == 0)
            return;
        var size = (int)Math.Min(credit, VsockConnection.ReadSize);
        var buffer = ArrayPool<byte>.Shared.Rent(VsockConnection.ReadSize);
        if (FaultsActive)
        {
            c.Reading = true;
            _ = ReceiveAsync(c, buffer, size);
            return;
        }
        var read = NativeIo.Receive(c.Fabric!.SocketHandle, buffer.AsSpan(0, size));
        if (read == -Interop.EAGAIN)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Wait(c, read: true);
            return;
        }
        Received(c, buffer, read < 0 ? 0 : (int)read, read < 0 ? DeviceErrors.FabricSystem((int)-read, VmciOperation.Receive, c.Fabric.RemoteAddress) : null);
    }

    private async Task ReceiveAsync(VsockConnection c, byte[] buffer, int size)
    {
        try
        {
            var read = await c.Fabric!.ReceiveAsync(buffer.AsMemory(0, size)).ConfigureAwait(false);
            Post(new ReceiveResult(c, buffer, read, null));
        }
        catch (VmciException e)
        {
            Post(new ReceiveResult(c, buffer, 0, e));
        }
        catch (Exception e)
        {
            Post(new ReceiveResult(c, buffer, 0, DeviceErrors.Fabric(_cid, e)));
        }
    }

    /// <summary>A read's result, from either path: bytes for the guest, the fabric's end of stream, or a failure.</summary>
    private void Received(VsockConnection c, byte[] buffer, int count, VmciException? error)
    {
        c.Reading = false;
        if (c.State != ConnectionState.Connected || c.GuestShutReceive || count == 0)
            ArrayPool<byte>.Shared.Return(buffer);
        if (c.State != ConnectionState.Connected || c.GuestShutReceive)
            return;
        if (error is not null)
        {
            Reset(c, $"the fabric end failed: {error.Message}");
            return;
        }
        if (count == 0 && c.Fabric!.PendingReset() is { } fault)
        {
            // The other end applied a reset fault first and closed: this is the reset, not a close.
            Reset(c, $"the fabric end failed: reset by the simulator's fault {fault}");
            return;
        }
        if (count == 0)
        {
            c.FabricEnded = true;
            c.FabricClosed = NativeIo.PeerClosed(c.Fabric!.SocketHandle);
        }
        else
        {
            c.RxBuffer = buffer;
            c.RxOffset = 0;
            c.RxCount = count;
        }
        MarkReady(c);
    }

    /// <summary>Sends the queued guest payload, as much as the fabric takes now.</summary>
    private void StartSend(VsockConnection c)
    {
        while (!c.Sending && c.State == ConnectionState.Connected)
        {
            if (!c.TryPeekChunk(out var chunk))
            {
                if (c.GuestShutSend && !c.FabricSendShut)
                    ShutFabricSend(c);
                return;
            }
            if (FaultsActive)
            {
                c.TryTakeChunk(out _);
                c.Sending = true;
                _ = SendAsync(c, chunk, chunk.Offset, chunk.Count - chunk.Offset);
                return;
            }
            var sent = NativeIo.Send(c.Fabric!.SocketHandle, chunk.Data.AsSpan(chunk.Offset, chunk.Count - chunk.Offset));
            if (sent == -Interop.EAGAIN)
            {
                Wait(c, read: false);
                return;
            }
            if (sent < 0)
            {
                Reset(c, $"the fabric end failed: {DeviceErrors.FabricSystem((int)-sent, VmciOperation.Send, c.Fabric.RemoteAddress).Message}");
                return;
            }
            chunk.Offset += (int)sent;
            Forwarded(c, (int)sent);
            if (chunk.Offset == chunk.Count)
            {
                c.TryTakeChunk(out _);
                ArrayPool<byte>.Shared.Return(chunk.Data);
            }
        }
    }

    private async Task SendAsync(VsockConnection c, Chunk chunk, int offset, int count)
    {
        try
        {
            await c.Fabric!.SendAsync(chunk.Data.AsMemory(offset, count)).ConfigureAwait(false);
            Post(new SendResult(c, chunk, count, null));
        }
        catch (VmciException e)
        {
            Post(new SendResult(c, chunk, count, e));
        }
        catch (Exception e)
        {
            Post(new SendResult(c, chunk, count, DeviceErrors.Fabric(_cid, e)));
        }
    }

    private void Sent(SendResult r)
    {
        var c = r.Connection;
        c.Sending = false;
        ArrayPool<byte>.Shared.Return(r.Chunk.Data);
        if (c.State != ConnectionState.Connected)
            return;
        if (r.Error is not null)
        {
            Reset(c, $"the fabric end failed: {r.Error.Message}");
            return;
        }
        Forwarded(c, r.Count);
        StartSend(c);
    }

    /// <summary>Guest bytes reached the fabric: the guest gets its credit back (a CREDIT_UPDATE every quarter of its window).</summary>
    private void Forwarded(VsockConnection c, int count)
    {
        c.Forwarded += (uint)count;
        Statistics.BytesToFabric += count;
        if (c.Forwarded - c.ReportedForwarded >= CreditUpdateThreshold(c))
            EnqueueControl(c, VsockOp.CreditUpdate);
    }

    /// <summary>Everything the guest sent before its SHUTDOWN(SEND) is on the fabric: the fabric peer reads end of stream.</summary>
    private void ShutFabricSend(VsockConnection c)
    {
        c.FabricSendShut = true;
        // Shut both ways by the guest (its close): as a Linux peer does, answer with RST and forget the connection. The
        // fabric end is closed at once — not shut down first — so that its peer sees a close, not a half-close.
        if (c.GuestShutReceive)
        {
            Reset(c, null);
            return;
        }
        try
        {
            c.Fabric!.ShutdownSend();
        }
        catch (VmciException e)
        {
            Reset(c, $"the fabric end failed: {e.Message}");
        }
    }

    /// <summary>The fabric socket would block: poll it for reading or writing.</summary>
    private void Wait(VsockConnection c, bool read)
    {
        if (read)
            c.WaitingToRead = true;
        else
            c.WaitingToWrite = true;
        _waiting.Add(c);
    }

    /// <summary>Adds the sockets the device waits on to the poll set, after the first <paramref name="count"/> entries.</summary>
    private int AddWaiting(Interop.PollFd[] fds, VsockConnection?[] owners, int count)
    {
        foreach (var c in _waiting)
        {
            if (count == fds.Length)
                break;
            fds[count] = new Interop.PollFd
            {
                fd = (int)c.Fabric!.SocketHandle.DangerousGetHandle(),
                events = (short)((c.WaitingToRead ? Interop.POLLIN : 0) | (c.WaitingToWrite ? Interop.POLLOUT : 0)),
            };
            owners[count++] = c;
        }
        return count;
    }

    /// <summary>A polled fabric socket is ready (or failed: the retried operation reports how).</summary>
    private void Ready(VsockConnection c, short revents)
    {
        var failed = (revents & (Interop.POLLERR | Interop.POLLHUP | Interop.POLLNVAL)) != 0;
        if (c.WaitingToRead && (failed || (revents & Interop.POLLIN) != 0))
        {
            c.WaitingToRead = false;
            StartRead(c);
        }
        if (c.WaitingToWrite && (failed || (revents & Interop.POLLOUT) != 0))
        {
            c.WaitingToWrite = false;
            StartSend(c);
        }
        if (!c.WaitingToRead && !c.WaitingToWrite)
            _waiting.Remove(c);
    }
}
