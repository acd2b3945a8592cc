namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// The guest side: every packet on the TX queue is checked, then applied to its connection. A packet that breaks a
/// vsock rule resets its connection (RST to the guest, the fabric end closed); only a broken queue stops the device.
/// </summary>
internal sealed partial class DeviceCore
{
    /// <summary>At most this many TX packets per pass, so that RX and fabric results are served in between.</summary>
    private const int TxBatch = 256;

    /// <summary>
    /// How many forwarded bytes make a CREDIT_UPDATE: a quarter of the window the guest really sends in — the device's
    /// buf_alloc, or the guest's own when smaller: Debian's 6.1.0-57 guest kernel keeps no more than its own buf_alloc
    /// (the one it advertises, 256 KiB by default) in flight, whatever the device offers. A quarter of the device's 4 MiB
    /// was a deadlock there (the guest stopped after 262,144 bytes, the device waited for 1 MiB), and a quarter of the
    /// default 1 MiB let the guest send its whole window and then wait: no overlap of its sending with the forwarding.
    /// </summary>
    private uint CreditUpdateThreshold(VsockConnection c) => Math.Max(1, Math.Min(_settings.BufferSize, c.GuestBufferAllocation) / 4);

    private void ServeTx()
    {
        var tx = _protocol.Tx;
        Span<byte> bytes = stackalloc byte[VsockHeader.Size];
        for (var i = 0; i < TxBatch && tx.TryPop(_chain, _protocol.Memory, deviceWrites: false); i++)
        {
            if (_chain.Length < VsockHeader.Size)
                throw DeviceErrors.Guest(_cid, $"TX packet of {_chain.Length} bytes is shorter than the {VsockHeader.Size}-byte virtio-vsock header");
            _chain.Read(_protocol.Memory, 0, bytes);
            var header = VsockHeader.Read(bytes);
            Statistics.CountFromGuest(header.Op);
            OnGuestPacket(header);
            tx.PushUsed(_chain.Head, 0);
        }
    }

    private void OnGuestPacket(in VsockHeader h)
    {
        // The guest's own CID — or 1 in a reply to a packet the device addressed to CID 1 (the kernel answers from the
        // address it was reached at, e.g. virtio_transport_reset_no_sock). Any other source is an impersonation.
        if (h.SourceCid != _cid && h.SourceCid != VmciCid.Local)
        {
            Refuse(h, $"source CID {h.SourceCid} is not the guest's CID {_cid}");
            return;
        }
        if (h.Type != VsockHeader.TypeStream)
        {
            Refuse(h, $"type {h.Type} is not VIRTIO_VSOCK_TYPE_STREAM (1), the only type offered");
            return;
        }
        if (h.DestinationCid > uint.MaxValue)
        {
            Refuse(h, $"destination CID {h.DestinationCid} is not a 32-bit CID");
            return;
        }
        var key = new ConnectionKey(h.SourcePort, (uint)h.DestinationCid, h.DestinationPort);
        _connections.TryGetValue(key, out var c);
        var broken = h.Length > _chain.Length - VsockHeader.Size
            ? $"len {h.Length} is larger than the {_chain.Length - VsockHeader.Size} payload bytes its descriptors hold"
            : h.Length > VsockHeader.MaxPayload ? $"len {h.Length} is more than the {VsockHeader.MaxPayload}-byte packet limit"
            : h.Op != VsockOp.ReadWrite && h.Length != 0 ? $"{h.Op} carries {h.Length} payload bytes; only RW carries data"
            : h.Op is < VsockOp.Request or > VsockOp.CreditRequest ? $"op {(ushort)h.Op} is not a virtio-vsock operation"
            : null;
        if (broken is not null)
        {
            if (c is not null)
                Reset(c, $"{key}: {broken}");
            else
                Refuse(h, broken);
            return;
        }
        if (h.Op == VsockOp.Request)
        {
            GuestRequest(h, key, c);
            return;
        }
        if (c is null)
        {
            if (h.Op != VsockOp.Reset)
                Refuse(h, null); // no such connection: RST, as the kernel answers (virtio_transport_reset_no_sock)
            return;
        }
        if (h.Op == VsockOp.Reset)
        {
            Close(c, Errno.ECONNRESET); // an inbound connector is refused: nobody listens
            return;
        }
        if (c.State == ConnectionState.Accepting)
        {
            if (h.Op != VsockOp.Response)
            {
                Reset(c, $"{key}: {h.Op} before the guest answered the REQUEST");
                return;
            }
            c.GuestBufferAllocation = h.BufferAllocation;
            c.GuestForwarded = h.ForwardCount;
            CompleteInbound(c);
            return;
        }
        if (c.State != ConnectionState.Connected)
        {
            Reset(c, $"{key}: {h.Op} before the connection was established");
            return;
        }
        // Every packet of a connection carries the guest's credit figures.
        c.GuestBufferAllocation = h.BufferAllocation;
        c.GuestForwarded = h.ForwardCount;
        switch (h.Op)
        {
            case VsockOp.ReadWrite:
                GuestData(c, h);
                break;
            case VsockOp.Shutdown:
                GuestShutdown(c, h);
                break;
            case VsockOp.CreditRequest:
                EnqueueControl(c, VsockOp.CreditUpdate);
                break;
            case VsockOp.Response:
                Reset(c, $"{key}: RESPONSE on an established connection");
                return;
        }
        if (c.State == ConnectionState.Connected)
        {
            if (c.RxCount > 0 || c.FabricEnded)
                MarkReady(c);
            else
                StartRead(c);
        }
    }

    private void GuestRequest(in VsockHeader h, ConnectionKey key, VsockConnection? existing)
    {
        if (existing is not null)
        {
            Reset(existing, $"{key}: REQUEST for a connection that exists");
            Refuse(h, null);
            return;
        }
        if (_connections.Count >= _settings.MaxConnections)
        {
            Refuse(h, $"{key}: the guest has {_connections.Count} connections (the per-guest cap)");
            return;
        }
        var c = new VsockConnection(key, _cid, ConnectionState.Connecting)
        {
            GuestBufferAllocation = h.BufferAllocation,
            GuestForwarded = h.ForwardCount,
        };
        _connections.Add(key, c);
        Statistics.Connections++;
        StartConnect(c, new VsockAddress(key.PeerCid, key.PeerPort));
    }

    private void GuestData(VsockConnection c, in VsockHeader h)
    {
        if (c.GuestShutSend)
        {
            Reset(c, $"{c.Key}: RW after the guest's SHUTDOWN(SEND)");
            return;
        }
        if (c.Unforwarded + (ulong)h.Length > _settings.BufferSize)
        {
            Reset(c, $"{c.Key}: credit violation: {h.Length} bytes sent with {c.Unforwarded} unforwarded, beyond the {_settings.BufferSize}-byte buf_alloc");
            return;
        }
        if (h.Length == 0)
            return;
        var length = (int)h.Length;
        var chunk = c.Tail(length);
        _chain.Read(_protocol.Memory, VsockHeader.Size, chunk.Data.AsSpan(chunk.Count, length));
        chunk.Count += length;
        c.ReceivedFromGuest += h.Length;
        StartSend(c);
    }

    private void GuestShutdown(VsockConnection c, in VsockHeader h)
    {
        const uint both = VsockHeader.ShutdownReceive | VsockHeader.ShutdownSend;
        if ((h.Flags & ~both) != 0)
        {
            Reset(c, $"{c.Key}: SHUTDOWN flags 0x{h.Flags:x} (only 1 = no more receive, 2 = no more send)");
            return;
        }
        if ((h.Flags & VsockHeader.ShutdownReceive) != 0 && !c.GuestShutReceive)
        {
            c.GuestShutReceive = true;
            // The fabric peer's later sends fail with EPIPE, as a vsock peer's do after the other side shut down receiving.
            c.Fabric!.ShutdownReceive();
            c.ReleaseRxBuffer();
        }
        if ((h.Flags & VsockHeader.ShutdownSend) != 0)
            c.GuestShutSend = true;
        if (c.GuestShutSend && !c.FabricSendShut)
            StartSend(c); // shuts the fabric side once the queue is empty
        else if (c.GuestShutSend && c.GuestShutReceive)
            Reset(c, null);
    }
}
