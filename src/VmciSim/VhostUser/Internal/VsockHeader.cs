using System.Buffers.Binary;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>The operations of a virtio-vsock packet (virtio 1.2 §5.10.6, VIRTIO_VSOCK_OP_*).</summary>
internal enum VsockOp : ushort
{
    /// <summary>VIRTIO_VSOCK_OP_INVALID.</summary>
    Invalid = 0,

    /// <summary>VIRTIO_VSOCK_OP_REQUEST: connect.</summary>
    Request = 1,

    /// <summary>VIRTIO_VSOCK_OP_RESPONSE: accepted.</summary>
    Response = 2,

    /// <summary>VIRTIO_VSOCK_OP_RST: refused, or the connection is gone.</summary>
    Reset = 3,

    /// <summary>VIRTIO_VSOCK_OP_SHUTDOWN: half or full close (<see cref="VsockHeader.ShutdownReceive"/>, <see cref="VsockHeader.ShutdownSend"/>).</summary>
    Shutdown = 4,

    /// <summary>VIRTIO_VSOCK_OP_RW: stream data.</summary>
    ReadWrite = 5,

    /// <summary>VIRTIO_VSOCK_OP_CREDIT_UPDATE: the sender's buf_alloc and fwd_cnt.</summary>
    CreditUpdate = 6,

    /// <summary>VIRTIO_VSOCK_OP_CREDIT_REQUEST: asks for a credit update.</summary>
    CreditRequest = 7,
}

/// <summary>
/// The 44-byte little-endian header of every virtio-vsock packet: addresses, payload length, type, operation, flags
/// and the sender's credit (buf_alloc, fwd_cnt). Read once from guest memory into this copy, so that the guest cannot
/// change a field between its check and its use.
/// </summary>
internal struct VsockHeader
{
    /// <summary>sizeof(struct virtio_vsock_hdr).</summary>
    public const int Size = 44;

    /// <summary>VIRTIO_VSOCK_TYPE_STREAM: the only type this device offers (no VIRTIO_VSOCK_F_SEQPACKET).</summary>
    public const ushort TypeStream = 1;

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_RCV: the sender will receive no more.</summary>
    public const uint ShutdownReceive = 1;

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_SEND: the sender will send no more.</summary>
    public const uint ShutdownSend = 2;

    /// <summary>VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload a packet may carry.</summary>
    public const int MaxPayload = 64 * 1024;

    public ulong SourceCid;
    public ulong DestinationCid;
    public uint SourcePort;
    public uint DestinationPort;
    public uint Length;
    public ushort Type;
    public VsockOp Op;
    public uint Flags;
    public uint BufferAllocation;
    public uint ForwardCount;

    public static VsockHeader Read(ReadOnlySpan<byte> bytes) => new()
    {
        SourceCid = BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        DestinationCid = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
        SourcePort = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]),
        DestinationPort = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]),
        Length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]),
        Type = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]),
        Op = (VsockOp)BinaryPrimitives.ReadUInt16LittleEndian(bytes[30..]),
        Flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes[32..]),
        BufferAllocation = BinaryPrimitives.ReadUInt32LittleEndian(bytes[36..]),
        ForwardCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes[40..]),
    };

    public readonly void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, SourceCid);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], DestinationCid);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[16..], SourcePort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[20..], DestinationPort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[24..], Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[28..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[30..], (ushort)Op);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[32..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[36..], BufferAllocation);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[40..], ForwardCount);
    }

    /// <summary>For messages: <c>RW 3:1024 → 2:5555, 100 bytes</c>.</summary>
    public override readonly string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Op} {SourceCid}:{SourcePort} → {DestinationCid}:{DestinationPort}, {Length} bytes, flags {Flags}");
}
