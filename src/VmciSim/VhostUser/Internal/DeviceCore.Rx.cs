namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// Packets for the guest: control packets first (REQUEST, RESPONSE, RST, CREDIT_UPDATE, in the order they were
/// decided), then data, round robin over the connections that have bytes and credit. Each packet is cut to the RX
/// buffer it lands in and to the guest's credit. Every queue here is bounded: one control entry of each kind per
/// connection, a capped list of RSTs for unknown connections, one fabric read per connection.
/// </summary>
internal sealed partial class DeviceCore
{
    /// <summary>RSTs answering packets of no connection that may wait for RX buffers; more are dropped (and counted).</summary>
    private const int MaxPendingRefusals = 1024;

    private readonly Queue<ControlEntry> _control = new();
    private readonly Queue<VsockConnection> _ready = new();
    private int _pendingRefusals;

    /// <summary>Queues a packet of <paramref name="op"/> for a connection; its credit fields are filled when it is written.</summary>
    private void EnqueueControl(VsockConnection c, VsockOp op)
    {
        if (op == VsockOp.CreditUpdate)
        {
            if (c.CreditUpdateQueued)
                return;
            c.CreditUpdateQueued = true;
        }
        _control.Enqueue(new ControlEntry(c, new VsockHeader { Op = op }, false));
    }

    /// <summary>Resets a connection: RST to the guest, its fabric end closed (a waiting connector gets ECONNRESET).</summary>
    private void Reset(VsockConnection c, string? reason)
    {
        if (c.State == ConnectionState.Closed)
            return;
        if (reason is not null)
        {
            Log($"reset {c.Key}: {reason}");
            Statistics.Resets++;
        }
        var header = PacketFor(c, VsockOp.Reset);
        header.BufferAllocation = 0;
        header.ForwardCount = 0;
        _control.Enqueue(new ControlEntry(null, header, false));
        Close(c, Errno.ECONNRESET);
    }

    /// <summary>Answers a packet that has no connection (or breaks a rule before it has one) with RST.</summary>
    private void Refuse(in VsockHeader h, string? reason)
    {
        if (reason is not null)
        {
            Log($"refused {h}: {reason}");
            Statistics.Resets++;
        }
        if (h.Op == VsockOp.Reset)
            return; // never answer a reset with a reset
        if (_pendingRefusals >= MaxPendingRefusals)
        {
            Statistics.DroppedResets++;
            return;
        }
        _pendingRefusals++;
        var reset = new VsockHeader
        {
            SourceCid = h.DestinationCid,
            SourcePort = h.DestinationPort,
            DestinationCid = h.SourceCid,
            DestinationPort = h.SourcePort,
            Type = VsockHeader.TypeStream,
            Op = VsockOp.Reset,
        };
        _control.Enqueue(new ControlEntry(null, reset, true));
    }

    /// <summary>Puts a connection with bytes (or an end of stream) for the guest in the round robin.</summary>
    private void MarkReady(VsockConnection c)
    {
        if (c.InReadyList || c.State != ConnectionState.Connected)
            return;
        c.InReadyList = true;
        _ready.Enqueue(c);
    }

    /// <summary>Fills RX buffers while there is something to put in them.</summary>
    private void FillRx()
    {
        var rx = _protocol.Rx;
        Span<byte> header = stackalloc byte[VsockHeader.Size];
        while ((_control.Count > 0 || _ready.Count > 0) && rx.TryPop(_chain, _protocol.Memory, deviceWrites: true))
        {
            if (_chain.Length < VsockHeader.Size)
                throw DeviceErrors.Guest(_cid, $"RX buffer of {_chain.Length} bytes cannot hold the {VsockHeader.Size}-byte virtio-vsock header");
            var written = WriteControl(header);
            if (written == 0)
                written = WriteData(header);
            if (written == 0)
            {
                rx.Unpop(); // nothing fits (only stale entries were left, or a data packet needs more room)
                return;
            }
            rx.PushUsed(_chain.Head, (uint)written);
        }
    }

    private int WriteControl(Span<byte> bytes)
    {
        while (_control.TryDequeue(out var entry))
        {
            var header = entry.Header;
            if (entry.Connection is { } c)
            {
                if (header.Op == VsockOp.CreditUpdate)
                    c.CreditUpdateQueued = false;
                if (c.State == ConnectionState.Closed)
                    continue;
                header = PacketFor(c, header.Op);
            }
            else if (entry.Refusal)
            {
                _pendingRefusals--;
            }
            header.Write(bytes);
            _chain.Write(_protocol.Memory, 0, bytes);
            Statistics.CountToGuest(header.Op);
            return VsockHeader.Size;
        }
        return 0;
    }

    private int WriteData(Span<byte> bytes)
    {
        var room = (int)Math.Min(_chain.Length - VsockHeader.Size, VsockHeader.MaxPayload);
        while (_ready.TryDequeue(out var c))
        {
            c.InReadyList = false;
            if (c.State != ConnectionState.Connected)
                continue;
            if (c.RxCount > 0)
            {
                var credit = c.GuestCredit;
                if (credit == 0)
                    continue; // back in the list when the guest's next packet brings credit
                if (room == 0)
                {
                    MarkReady(c);
                    return 0;
                }
                var length = (int)Math.Min(Math.Min((uint)c.RxCount, credit), (uint)room);
                var header = PacketFor(c, VsockOp.ReadWrite);
                header.Length = (uint)length;
                header.Write(bytes);
                _chain.Write(_protocol.Memory, 0, bytes);
                _chain.Write(_protocol.Memory, VsockHeader.Size, c.RxBuffer.AsSpan(c.RxOffset, length));
                c.SentToGuest += (uint)length;
                c.RxOffset += length;
                c.RxCount -= length;
                Statistics.BytesToGuest += length;
                Statistics.CountToGuest(VsockOp.ReadWrite);
                if (c.RxCount == 0)
                {
                    c.ReleaseRxBuffer();
                    StartRead(c);
                }
                if (c.RxCount > 0 || c.FabricEnded)
                    MarkReady(c);
                return VsockHeader.Size + length;
            }
            if (c.FabricEnded && !c.EndSentToGuest)
            {
                // End of stream from the fabric. A half-close is "no more send" only: the guest may still send (the
                // prototype's flaw was to send both flags, which made the guest's next write fail with EPIPE). A close
                // is both flags, as a Linux peer's close sends them: the guest's next write fails with EPIPE.
                c.EndSentToGuest = true;
                var header = PacketFor(c, VsockOp.Shutdown);
                header.Flags = c.FabricClosed ? VsockHeader.ShutdownReceive | VsockHeader.ShutdownSend : VsockHeader.ShutdownSend;
                header.Write(bytes);
                _chain.Write(_protocol.Memory, 0, bytes);
                Statistics.CountToGuest(VsockOp.Shutdown);
                return VsockHeader.Size;
            }
        }
        return 0;
    }

    /// <summary>A packet of <paramref name="c"/> from its fabric peer to the guest, with the device's current credit.</summary>
    private VsockHeader PacketFor(VsockConnection c, VsockOp op)
    {
        c.ReportedForwarded = c.Forwarded;
        return new VsockHeader
        {
            SourceCid = c.Key.PeerCid,
            SourcePort = c.Key.PeerPort,
            DestinationCid = c.GuestSideCid,
            DestinationPort = c.Key.GuestPort,
            Type = VsockHeader.TypeStream,
            Op = op,
            BufferAllocation = _settings.BufferSize,
            ForwardCount = c.Forwarded,
        };
    }

    /// <summary>Inbound connections the guest never answered: RST to the guest, ETIMEDOUT to the connector.</summary>
    private void ExpireAccepts()
    {
        if (_accepting.Count == 0)
            return;
        var now = Environment.TickCount64;
        foreach (var c in _accepting.Where(c => c.AcceptDeadline <= now).ToList())
        {
            Log($"reset {c.Key}: the guest did not answer the REQUEST within {_settings.AcceptTimeout.TotalSeconds:0.#} s");
            _control.Enqueue(new ControlEntry(null, PacketFor(c, VsockOp.Reset), false));
            Close(c, Errno.ETIMEDOUT);
        }
    }

    /// <summary>poll(2)'s timeout: until the next accept deadline, or forever.</summary>
    private int NextTimeout()
    {
        if (_accepting.Count == 0)
            return -1;
        var next = _accepting.Min(c => c.AcceptDeadline);
        return (int)Math.Clamp(next - Environment.TickCount64, 0, int.MaxValue);
    }
}

/// <summary>A control packet waiting for an RX buffer: for a live connection (built when written) or fixed.</summary>
/// <param name="Connection">The connection whose current figures fill the packet, or null for a fixed packet.</param>
/// <param name="Header">The operation (connection packets) or the whole packet (fixed ones).</param>
/// <param name="Refusal">An RST answering a packet of no connection (counted against the cap).</param>
internal readonly record struct ControlEntry(VsockConnection? Connection, VsockHeader Header, bool Refusal);
