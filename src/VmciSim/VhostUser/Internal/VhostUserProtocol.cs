using System.Buffers.Binary;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// The back-end half of the vhost-user control plane for a vsock device: feature negotiation, the configuration
/// space (the guest's CID), the memory table and the two virtqueues QEMU hands over (RX = 0, TX = 1; QEMU keeps the
/// event queue). Every message is checked — payload size, queue index, descriptor count, features that were offered —
/// and a breach is a front-end error that stops the device. Runs on the device thread.
/// </summary>
internal sealed class VhostUserProtocol : IDisposable
{
    /// <summary>VIRTIO_F_VERSION_1: a modern (virtio 1.x, little-endian) device.</summary>
    public const ulong VIRTIO_F_VERSION_1 = 1UL << 32;

    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES: the protocol feature messages exist; rings start disabled.</summary>
    public const ulong VHOST_USER_F_PROTOCOL_FEATURES = 1UL << 30;

    /// <summary>VHOST_USER_PROTOCOL_F_MQ: GET_QUEUE_NUM.</summary>
    public const ulong VHOST_USER_PROTOCOL_F_MQ = 1UL << 0;

    /// <summary>VHOST_USER_PROTOCOL_F_CONFIG: GET_CONFIG / SET_CONFIG (QEMU's vhost-user-vsock requires it).</summary>
    public const ulong VHOST_USER_PROTOCOL_F_CONFIG = 1UL << 9;

    /// <summary>The device features offered: no EVENT_IDX, no indirect descriptors, no SEQPACKET.</summary>
    public const ulong OfferedFeatures = VIRTIO_F_VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES;

    /// <summary>The protocol features offered.</summary>
    public const ulong OfferedProtocolFeatures = VHOST_USER_PROTOCOL_F_MQ | VHOST_USER_PROTOCOL_F_CONFIG;

    /// <summary>VHOST_USER_VRING_NOFD_MASK: a kick/call/err message without a descriptor.</summary>
    private const ulong VringNoFdMask = 1UL << 8;

    /// <summary>VHOST_USER_MAX_CONFIG_SIZE.</summary>
    private const int MaxConfigSize = 256;

    private readonly VhostUserChannel _channel;
    private readonly uint _cid;
    private readonly Dictionary<VhostUserRequest, int> _handled = [];

    public VhostUserProtocol(VhostUserChannel channel, uint cid)
    {
        _channel = channel;
        _cid = cid;
        Rx = new Virtqueue(0, "RX", cid);
        Tx = new Virtqueue(1, "TX", cid);
    }

    /// <summary>The guest's memory as the front-end last described it.</summary>
    public GuestMemory Memory { get; } = new();

    /// <summary>Queue 0: buffers the device fills for the guest.</summary>
    public Virtqueue Rx { get; }

    /// <summary>Queue 1: packets the guest sends.</summary>
    public Virtqueue Tx { get; }

    /// <summary>The features the front-end acknowledged (SET_FEATURES).</summary>
    public ulong AcknowledgedFeatures { get; private set; }

    /// <summary>The protocol features the front-end acknowledged (SET_PROTOCOL_FEATURES).</summary>
    public ulong AcknowledgedProtocolFeatures { get; private set; }

    /// <summary>How many messages of each request were handled (tests, statistics).</summary>
    public IReadOnlyDictionary<VhostUserRequest, int> Handled => _handled;

    /// <summary>Handles one message: state change and, for the GET_ requests, the reply.</summary>
    public void Handle(VhostUserMessage m)
    {
        switch (m.Request)
        {
            case VhostUserRequest.GetFeatures:
                ReplyU64(m, OfferedFeatures);
                break;
            case VhostUserRequest.SetFeatures:
                var features = U64(m);
                if ((features & ~OfferedFeatures) != 0)
                    throw Broken(m, $"acknowledges features 0x{features & ~OfferedFeatures:x} that were not offered (offered 0x{OfferedFeatures:x})");
                AcknowledgedFeatures = features;
                break;
            case VhostUserRequest.SetOwner:
                ExpectSize(m, 0);
                break;
            case VhostUserRequest.ResetOwner:
                ExpectSize(m, 0);
                Rx.Stop();
                Tx.Stop();
                AcknowledgedFeatures = 0;
                break;
            case VhostUserRequest.GetProtocolFeatures:
                ReplyU64(m, OfferedProtocolFeatures);
                break;
            case VhostUserRequest.SetProtocolFeatures:
                var protocol = U64(m);
                if ((protocol & ~OfferedProtocolFeatures) != 0)
                    throw Broken(m, $"acknowledges protocol features 0x{protocol & ~OfferedProtocolFeatures:x} that were not offered (offered 0x{OfferedProtocolFeatures:x})");
                AcknowledgedProtocolFeatures = protocol;
                break;
            case VhostUserRequest.GetQueueNum:
                ReplyU64(m, 2);
                break;
            case VhostUserRequest.GetConfig:
                GetConfig(m);
                break;
            case VhostUserRequest.SetMemTable:
                SetMemTable(m);
                break;
            case VhostUserRequest.SetVringNum:
                {
                    var (queue, value) = VringState(m);
                    Check(m, queue.SetSize(value));
                    break;
                }
            case VhostUserRequest.SetVringBase:
                {
                    var (queue, value) = VringState(m);
                    if (value > ushort.MaxValue)
                        throw Broken(m, $"{queue.Name} base {value} is not a 16-bit ring index");
                    queue.SetBase((ushort)value);
                    break;
                }
            case VhostUserRequest.GetVringBase:
                {
                    var (queue, _) = VringState(m);
                    Span<byte> reply = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt32LittleEndian(reply, (uint)queue.Index);
                    BinaryPrimitives.WriteUInt32LittleEndian(reply[4..], queue.Stop());
                    _channel.Reply(m.Request, reply);
                    break;
                }
            case VhostUserRequest.SetVringAddr:
                SetVringAddr(m);
                break;
            case VhostUserRequest.SetVringKick:
            case VhostUserRequest.SetVringCall:
            case VhostUserRequest.SetVringErr:
                SetVringFile(m);
                break;
            case VhostUserRequest.SetVringEnable:
                {
                    var (queue, value) = VringState(m);
                    if (value > 1)
                        throw Broken(m, $"{queue.Name} enable value {value} is neither 0 nor 1");
                    queue.Enabled = value == 1;
                    break;
                }
            case VhostUserRequest.SetConfig:
                throw Broken(m, "the vsock configuration space (the guest's CID) is read-only");
            case VhostUserRequest.SetLogBase:
            case VhostUserRequest.SetLogFd:
                throw Broken(m, "dirty-page logging was not offered (no VHOST_F_LOG_ALL, no VHOST_USER_PROTOCOL_F_LOG_SHMFD)");
            default:
                throw Broken(m, "is not a request this back-end serves");
        }
        if (m.Files.Count != 0)
            throw Broken(m, $"carries {m.Files.Count} file descriptor(s) it has no use for");
        _handled[m.Request] = _handled.GetValueOrDefault(m.Request) + 1;
    }

    public void Dispose()
    {
        Rx.Dispose();
        Tx.Dispose();
        Memory.Dispose();
    }

    private void GetConfig(VhostUserMessage m)
    {
        if (m.Payload.Length < 12)
            throw Broken(m, $"payload of {m.Payload.Length} bytes is shorter than the 12-byte config header");
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(m.Payload);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(m.Payload.AsSpan(4));
        if (size > MaxConfigSize || m.Payload.Length != 12 + size)
            throw Broken(m, $"asks for {size} config bytes in a payload of {m.Payload.Length} (at most {MaxConfigSize}, payload 12 + size)");
        // struct virtio_vsock_config { le64 guest_cid; }: bytes past it read as zero.
        Span<byte> space = stackalloc byte[MaxConfigSize * 2];
        space.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(space, _cid);
        var reply = (byte[])m.Payload.Clone();
        reply.AsSpan(12).Clear();
        if (offset < MaxConfigSize)
            space.Slice((int)offset, (int)size).CopyTo(reply.AsSpan(12));
        _channel.Reply(m.Request, reply);
    }

    private void SetMemTable(VhostUserMessage m)
    {
        if (m.Payload.Length < 8)
            throw Broken(m, $"payload of {m.Payload.Length} bytes is shorter than the 8-byte table header");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(m.Payload);
        if (count is 0 or > GuestMemory.MaxRegions)
            throw Broken(m, $"describes {count} regions (1 to {GuestMemory.MaxRegions})");
        if (m.Payload.Length != 8 + (32 * count))
            throw Broken(m, $"payload of {m.Payload.Length} bytes does not hold exactly {count} regions (8 + 32 each)");
        if (m.Files.Count != count)
            throw Broken(m, $"describes {count} regions but carries {m.Files.Count} file descriptors");
        var regions = new MemoryRegionDescription[count];
        for (var i = 0; i < count; i++)
        {
            var r = m.Payload.AsSpan(8 + (32 * i));
            regions[i] = new MemoryRegionDescription(BinaryPrimitives.ReadUInt64LittleEndian(r), BinaryPrimitives.ReadUInt64LittleEndian(r[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(r[16..]), BinaryPrimitives.ReadUInt64LittleEndian(r[24..]));
        }
        Check(m, Memory.Replace(regions, m.Files));
        // The mappings hold the memory: the descriptors themselves are no longer needed.
        foreach (var file in m.Files)
            file.Dispose();
        m.Files.Clear();
        Check(m, Rx.Map(Memory));
        Check(m, Tx.Map(Memory));
    }

    private void SetVringAddr(VhostUserMessage m)
    {
        ExpectSize(m, 40);
        var p = m.Payload.AsSpan();
        var queue = Queue(m, BinaryPrimitives.ReadUInt32LittleEndian(p));
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        if (flags != 0)
            throw Broken(m, $"{queue.Name} address flags 0x{flags:x}: logging (VHOST_VRING_F_LOG) was not offered");
        Check(m, queue.SetAddresses(BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[24..]), Memory));
    }

    private void SetVringFile(VhostUserMessage m)
    {
        var value = U64(m);
        if ((value & ~(VringNoFdMask | 0xFF)) != 0)
            throw Broken(m, $"value 0x{value:x} has bits other than the queue index and VHOST_USER_VRING_NOFD_MASK");
        var queue = Queue(m, (uint)(value & 0xFF));
        var noFile = (value & VringNoFdMask) != 0;
        if (noFile != (m.Files.Count == 0) || m.Files.Count > 1)
            throw Broken(m, $"carries {m.Files.Count} file descriptor(s) with NOFD {(noFile ? "set" : "clear")}");
        var file = m.TakeFile();
        switch (m.Request)
        {
            case VhostUserRequest.SetVringKick:
                if (file is null)
                    throw Broken(m, $"{queue.Name} has no kick eventfd: polling mode is not served");
                queue.SetKick(file);
                // Without VHOST_USER_F_PROTOCOL_FEATURES a ring starts enabled as soon as it has its kick.
                if ((AcknowledgedFeatures & VHOST_USER_F_PROTOCOL_FEATURES) == 0)
                    queue.Enabled = true;
                break;
            case VhostUserRequest.SetVringCall:
                queue.SetCall(file);
                break;
            default:
                queue.SetError(file);
                break;
        }
    }

    private (Virtqueue Queue, uint Value) VringState(VhostUserMessage m)
    {
        ExpectSize(m, 8);
        return (Queue(m, BinaryPrimitives.ReadUInt32LittleEndian(m.Payload)), BinaryPrimitives.ReadUInt32LittleEndian(m.Payload.AsSpan(4)));
    }

    private Virtqueue Queue(VhostUserMessage m, uint index) => index switch
    {
        0 => Rx,
        1 => Tx,
        _ => throw Broken(m, $"names queue {index}; a vhost-user vsock device has queues 0 (RX) and 1 (TX)"),
    };

    private ulong U64(VhostUserMessage m)
    {
        ExpectSize(m, 8);
        return m.U64;
    }

    private void ReplyU64(VhostUserMessage m, ulong value)
    {
        ExpectSize(m, 0, 8);
        Span<byte> reply = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(reply, value);
        _channel.Reply(m.Request, reply);
    }

    private void ExpectSize(VhostUserMessage m, int size, int alternative = -1)
    {
        if (m.Payload.Length != size && m.Payload.Length != alternative)
            throw Broken(m, $"payload of {m.Payload.Length} bytes, expected {size}");
    }

    private void Check(VhostUserMessage m, string? rule)
    {
        if (rule is not null)
            throw Broken(m, rule);
    }

    private VmciException Broken(VhostUserMessage m, string rule) =>
        DeviceErrors.FrontEnd(_channel.Name, $"{Name(m.Request)}: {rule}");

    /// <summary>VHOST_USER_GET_FEATURES style names for messages.</summary>
    public static string Name(VhostUserRequest request) => request switch
    {
        VhostUserRequest.GetFeatures => "VHOST_USER_GET_FEATURES",
        VhostUserRequest.SetFeatures => "VHOST_USER_SET_FEATURES",
        VhostUserRequest.SetOwner => "VHOST_USER_SET_OWNER",
        VhostUserRequest.ResetOwner => "VHOST_USER_RESET_OWNER",
        VhostUserRequest.SetMemTable => "VHOST_USER_SET_MEM_TABLE",
        VhostUserRequest.SetLogBase => "VHOST_USER_SET_LOG_BASE",
        VhostUserRequest.SetLogFd => "VHOST_USER_SET_LOG_FD",
        VhostUserRequest.SetVringNum => "VHOST_USER_SET_VRING_NUM",
        VhostUserRequest.SetVringAddr => "VHOST_USER_SET_VRING_ADDR",
        VhostUserRequest.SetVringBase => "VHOST_USER_SET_VRING_BASE",
        VhostUserRequest.GetVringBase => "VHOST_USER_GET_VRING_BASE",
        VhostUserRequest.SetVringKick => "VHOST_USER_SET_VRING_KICK",
        VhostUserRequest.SetVringCall => "VHOST_USER_SET_VRING_CALL",
        VhostUserRequest.SetVringErr => "VHOST_USER_SET_VRING_ERR",
        VhostUserRequest.GetProtocolFeatures => "VHOST_USER_GET_PROTOCOL_FEATURES",
        VhostUserRequest.SetProtocolFeatures => "VHOST_USER_SET_PROTOCOL_FEATURES",
        VhostUserRequest.GetQueueNum => "VHOST_USER_GET_QUEUE_NUM",
        VhostUserRequest.SetVringEnable => "VHOST_USER_SET_VRING_ENABLE",
        VhostUserRequest.GetConfig => "VHOST_USER_GET_CONFIG",
        VhostUserRequest.SetConfig => "VHOST_USER_SET_CONFIG",
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"vhost-user request {(uint)request}"),
    };
}
