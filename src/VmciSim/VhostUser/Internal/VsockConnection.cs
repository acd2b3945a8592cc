using System.Buffers;
using System.Net.Sockets;
using Vmci.Sim.Internal;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>A connection as the guest names it: its own port and the peer's (cid, port). The guest's CID is implied.</summary>
internal readonly record struct ConnectionKey(uint GuestPort, uint PeerCid, uint PeerPort)
{
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"guest port {GuestPort} ↔ {PeerCid}:{PeerPort}");
}

/// <summary>Where a connection is in its life.</summary>
internal enum ConnectionState
{
    /// <summary>The guest sent REQUEST; the device is connecting on the fabric.</summary>
    Connecting,

    /// <summary>A fabric connector reached the gateway; the device sent REQUEST to the guest and waits for its answer.</summary>
    Accepting,

    /// <summary>Both sides are connected: bytes flow.</summary>
    Connected,

    /// <summary>Gone: events that still arrive for it only release what they carry.</summary>
    Closed,
}

/// <summary>
/// One guest connection carried to the fabric: its addresses, its fabric end, and both directions' credit accounting
/// (virtio 1.2 §5.10.6.3). Guest to fabric: the device advertises <c>buf_alloc</c>; the guest may have at most that many
/// bytes received-but-not-forwarded, which bounds the send queue. Fabric to guest: the device reads from the
/// fabric only as much as the guest's credit allows, which bounds <see cref="RxBuffer"/>. Owned by the device thread.
/// </summary>
internal sealed class VsockConnection(ConnectionKey key, uint guestSideCid, ConnectionState state)
{
    /// <summary>The size of a send chunk.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>The largest fabric read: what a guest's RX queue holds (64 buffers of 4 KiB), so that one read fills it and one interrupt announces it.</summary>
    public const int ReadSize = 256 * 1024;

    public ConnectionKey Key { get; } = key;

    /// <summary>The destination CID of packets to the guest: its CID, or 1 when the guest reached itself through CID 1.</summary>
    public uint GuestSideCid { get; } = guestSideCid;

    public ConnectionState State { get; set; } = state;

    /// <summary>The fabric end, once connected.</summary>
    public SimConnection? Fabric { get; set; }

    /// <summary>An inbound connection's gateway socket, waiting for the guest's RESPONSE or RST.</summary>
    public Socket? PendingInbound { get; set; }

    /// <summary>The handshake an inbound connection answers.</summary>
    public Handshake.Request InboundRequest { get; set; }

    /// <summary>When an inbound connection stops waiting for the guest (Environment.TickCount64).</summary>
    public long AcceptDeadline { get; set; }

    // Guest → fabric.

    /// <summary>rx_cnt: payload bytes received from the guest.</summary>
    public uint ReceivedFromGuest { get; set; }

    /// <summary>fwd_cnt: payload bytes forwarded to the fabric.</summary>
    public uint Forwarded { get; set; }

    /// <summary>The fwd_cnt last told to the guest.</summary>
    public uint ReportedForwarded { get; set; }

    private readonly Queue<Chunk> _sendQueue = new();
    private Chunk? _last;

    /// <summary>Chunks waiting to be sent to the fabric; the one being sent is not counted.</summary>
    public int QueuedChunks => _sendQueue.Count;

    /// <summary>A fabric send is in flight on the thread pool (the faults path).</summary>
    public bool Sending { get; set; }

    /// <summary>The device polls the fabric socket until it can be read.</summary>
    public bool WaitingToRead { get; set; }

    /// <summary>The device polls the fabric socket until it can be written.</summary>
    public bool WaitingToWrite { get; set; }

    /// <summary>The guest sent SHUTDOWN with VIRTIO_VSOCK_SHUTDOWN_SEND.</summary>
    public bool GuestShutSend { get; set; }

    /// <summary>The guest sent SHUTDOWN with VIRTIO_VSOCK_SHUTDOWN_RCV.</summary>
    public bool GuestShutReceive { get; set; }

    /// <summary>The fabric end's sending side is shut down.</summary>
    public bool FabricSendShut { get; set; }

    /// <summary>A CREDIT_UPDATE for this connection is queued.</summary>
    public bool CreditUpdateQueued { get; set; }

    // Fabric → guest.

    /// <summary>peer_buf_alloc: the guest's receive buffer for this connection.</summary>
    public uint GuestBufferAllocation { get; set; }

    /// <summary>peer_fwd_cnt: bytes the guest has consumed.</summary>
    public uint GuestForwarded { get; set; }

    /// <summary>tx_cnt: payload bytes sent to the guest.</summary>
    public uint SentToGuest { get; set; }

    /// <summary>Bytes read from the fabric, not yet in the guest: [RxOffset, RxOffset + RxCount) of this pooled buffer.</summary>
    public byte[]? RxBuffer { get; set; }

    public int RxOffset { get; set; }

    public int RxCount { get; set; }

    /// <summary>A fabric read is in flight on the thread pool (the faults path).</summary>
    public bool Reading { get; set; }

    /// <summary>The fabric end reached end of stream.</summary>
    public bool FabricEnded { get; set; }

    /// <summary>At its end of stream the fabric peer had closed the connection (not only half-closed it).</summary>
    public bool FabricClosed { get; set; }

    /// <summary>SHUTDOWN for the fabric's end of stream went to the guest.</summary>
    public bool EndSentToGuest { get; set; }

    /// <summary>The connection is in the device's ready list (data or an end of stream for the guest).</summary>
    public bool InReadyList { get; set; }

    /// <summary>Payload bytes received from the guest and not yet forwarded: at most the advertised buf_alloc.</summary>
    public uint Unforwarded => ReceivedFromGuest - Forwarded;

    /// <summary>
    /// How many more bytes the guest can take: peer_buf_alloc − (tx_cnt − peer_fwd_cnt). A guest that shrank its buffer
    /// below what is in flight, or reports more consumed than was sent, gets nothing until its figures make sense.
    /// </summary>
    public uint GuestCredit
    {
        get
        {
            var inFlight = SentToGuest - GuestForwarded;
            return inFlight > GuestBufferAllocation ? 0 : GuestBufferAllocation - inFlight;
        }
    }

    /// <summary>The chunk to copy <paramref name="needed"/> bytes of guest payload into: the last queued one while it has room.</summary>
    public Chunk Tail(int needed)
    {
        if (_last is { } last && last.Count + needed <= last.Data.Length)
            return last;
        var chunk = new Chunk(ArrayPool<byte>.Shared.Rent(Math.Max(needed, ChunkSize)));
        _sendQueue.Enqueue(chunk);
        _last = chunk;
        return chunk;
    }

    /// <summary>The oldest queued chunk (it may still grow while it is the last one).</summary>
    public bool TryPeekChunk(out Chunk chunk) => _sendQueue.TryPeek(out chunk!);

    /// <summary>Takes the oldest queued chunk for sending (no more payload is appended to it).</summary>
    public bool TryTakeChunk(out Chunk chunk)
    {
        if (!_sendQueue.TryDequeue(out chunk!))
            return false;
        if (ReferenceEquals(chunk, _last))
            _last = null;
        return true;
    }

    /// <summary>Returns every pooled buffer that no I/O is using.</summary>
    public void ReleaseIdleBuffers()
    {
        while (TryTakeChunk(out var chunk))
            ArrayPool<byte>.Shared.Return(chunk.Data);
        ReleaseRxBuffer();
    }

    /// <summary>Drops fabric bytes the guest has not taken (it will receive no more).</summary>
    public void ReleaseRxBuffer()
    {
        if (RxBuffer is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            RxBuffer = null;
            RxCount = 0;
        }
    }
}

/// <summary>A pooled buffer of guest payload on its way to the fabric.</summary>
internal sealed class Chunk(byte[] data)
{
    public byte[] Data { get; } = data;

    /// <summary>Bytes of payload in <see cref="Data"/>.</summary>
    public int Count { get; set; }

    /// <summary>Bytes of them already sent to the fabric.</summary>
    public int Offset { get; set; }
}
