using System.Buffers.Binary;
using Vmci.Sim.VhostUser.Linux;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// One split virtqueue (virtio 1.x §2.7) as the device side sees it: the descriptor table, the available ring the
/// driver fills and the used ring the device returns buffers on, all in guest memory. Every index and address the
/// guest writes is checked before use (index in range, no loops, no indirect descriptors, buffers in guest memory,
/// readable or writable as the queue requires); a breach throws the guest error that stops the device. Owned by the
/// device thread.
/// </summary>
internal sealed unsafe class Virtqueue : IDisposable
{
    /// <summary>The largest split queue (virtio: Queue Size is at most 32768).</summary>
    public const int MaxSize = 32768;

    /// <summary>VIRTQ_DESC_F_NEXT: the chain continues at the next field.</summary>
    private const ushort VIRTQ_DESC_F_NEXT = 1;

    /// <summary>VIRTQ_DESC_F_WRITE: the buffer is device-writable (else device-readable).</summary>
    private const ushort VIRTQ_DESC_F_WRITE = 2;

    /// <summary>VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors (not offered by this device).</summary>
    private const ushort VIRTQ_DESC_F_INDIRECT = 4;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT: the driver asks not to be interrupted for used buffers.</summary>
    private const ushort VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

    private readonly uint _cid;
    private byte* _desc;
    private byte* _avail;
    private byte* _used;
    private ushort _lastAvail;
    private ushort _usedIndex;
    private int _unsignalled;

    public Virtqueue(int index, string name, uint cid)
    {
        Index = index;
        Name = name;
        _cid = cid;
    }

    /// <summary>0 for RX (device to guest), 1 for TX (guest to device).</summary>
    public int Index { get; }

    /// <summary>RX or TX, for messages.</summary>
    public string Name { get; }

    /// <summary>Queue size (SET_VRING_NUM), 0 until set.</summary>
    public ushort Size { get; private set; }

    /// <summary>The front-end's virtual addresses of the three parts (SET_VRING_ADDR).</summary>
    public (ulong Descriptors, ulong Used, ulong Available)? Addresses { get; private set; }

    /// <summary>The driver's kick: signalled when it adds buffers (SET_VRING_KICK).</summary>
    public FileDescriptor? Kick { get; private set; }

    /// <summary>The device's call: signalled when it returns buffers (SET_VRING_CALL).</summary>
    public FileDescriptor? Call { get; private set; }

    /// <summary>The error notifier (SET_VRING_ERR), kept but never signalled: errors stop the device instead.</summary>
    public FileDescriptor? Error { get; private set; }

    /// <summary>SET_VRING_ENABLE.</summary>
    public bool Enabled { get; set; }

    /// <summary>True when the queue can carry buffers: sized, mapped, kicked and enabled.</summary>
    public bool Ready => Size != 0 && _desc != null && Kick is not null && Enabled;

    /// <summary>The available index the device will read next (SET_VRING_BASE sets it, GET_VRING_BASE reports it).</summary>
    public ushort NextAvailable => _lastAvail;

    /// <summary>SET_VRING_NUM: a power of two from 1 to 32768; the rule broken otherwise.</summary>
    public string? SetSize(uint size)
    {
        if (size is 0 or > MaxSize || (size & (size - 1)) != 0)
            return $"{Name} queue size {size} is not a power of two from 1 to {MaxSize}";
        Size = (ushort)size;
        _desc = _avail = _used = null;
        return null;
    }

    /// <summary>SET_VRING_BASE: where the device resumes reading the available ring.</summary>
    public void SetBase(ushort next) => _lastAvail = next;

    /// <summary>SET_VRING_ADDR: records the addresses and maps them; the rule broken when they cannot be used.</summary>
    public string? SetAddresses(ulong descriptors, ulong used, ulong available, GuestMemory memory)
    {
        Addresses = (descriptors, used, available);
        return Map(memory);
    }

    /// <summary>(Re)translates the ring addresses through <paramref name="memory"/> (after SET_VRING_ADDR or SET_MEM_TABLE).</summary>
    public string? Map(GuestMemory memory)
    {
        _desc = _avail = _used = null;
        if (Addresses is not { } a)
            return null;
        if (Size == 0)
            return $"{Name} queue addresses came before its size (SET_VRING_NUM)";
        if (a.Descriptors % 16 != 0 || a.Available % 2 != 0 || a.Used % 4 != 0)
            return $"{Name} ring addresses are misaligned (descriptors 0x{a.Descriptors:x} need 16, available 0x{a.Available:x} 2, used 0x{a.Used:x} 4)";
        var desc = memory.TranslateUser(a.Descriptors, 16UL * Size);
        var avail = memory.TranslateUser(a.Available, 6UL + (2UL * Size));
        var used = memory.TranslateUser(a.Used, 6UL + (8UL * Size));
        if (desc == null || avail == null || used == null)
            return $"{Name} ring (descriptors 0x{a.Descriptors:x}, available 0x{a.Available:x}, used 0x{a.Used:x}, size {Size}) is not inside one memory region";
        _desc = desc;
        _avail = avail;
        _used = used;
        _usedIndex = Volatile.Read(ref *(ushort*)(_used + 2));
        return null;
    }

    /// <summary>SET_VRING_KICK: replaces the kick eventfd (null: polling mode, which this device does not serve).</summary>
    public void SetKick(FileDescriptor? kick)
    {
        Kick?.Dispose();
        Kick = kick;
    }

    /// <summary>SET_VRING_CALL: replaces the call eventfd.</summary>
    public void SetCall(FileDescriptor? call)
    {
        Call?.Dispose();
        Call = call;
    }

    /// <summary>SET_VRING_ERR: replaces the error eventfd.</summary>
    public void SetError(FileDescriptor? error)
    {
        Error?.Dispose();
        Error = error;
    }

    /// <summary>GET_VRING_BASE: stops the queue (no more access to its rings) and returns where it stopped.</summary>
    public ushort Stop()
    {
        Enabled = false;
        SetKick(null);
        _desc = _avail = _used = null;
        return _lastAvail;
    }

    /// <summary>True when the driver has made a buffer available that the device has not taken.</summary>
    public bool HasAvailable
    {
        get
        {
            if (!Ready)
                return false;
            var index = Volatile.Read(ref *(ushort*)(_avail + 2));
            var waiting = (ushort)(index - _lastAvail);
            if (waiting > Size)
                throw DeviceErrors.Guest(_cid, $"{Name} available index moved {waiting} entries ahead of the device, more than the queue size {Size}");
            return waiting != 0;
        }
    }

    /// <summary>
    /// Takes the next available chain into <paramref name="chain"/>, checking every descriptor; false when none.
    /// <paramref name="deviceWrites"/>: true for RX (every buffer device-writable), false for TX (every buffer device-readable).
    /// </summary>
    public bool TryPop(DescriptorChain chain, GuestMemory memory, bool deviceWrites)
    {
        if (!HasAvailable)
            return false;
        var head = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_avail + 4 + (2 * (_lastAvail % Size)), 2));
        _lastAvail++;
        chain.Reset(head);
        var i = head;
        while (true)
        {
            if (i >= Size)
                throw DeviceErrors.Guest(_cid, $"{Name} descriptor index {i} is outside the queue of {Size}");
            if (chain.Count == Size)
                throw DeviceErrors.Guest(_cid, $"{Name} descriptor chain from {head} loops (more than the queue size, {Size}, descriptors)");
            var d = new ReadOnlySpan<byte>(_desc + (16 * i), 16);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(d);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(d[12..]);
            var next = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0)
                throw DeviceErrors.Guest(_cid, $"{Name} descriptor {i} is indirect, but VIRTIO_RING_F_INDIRECT_DESC was not negotiated");
            if (((flags & VIRTQ_DESC_F_WRITE) != 0) != deviceWrites)
                throw DeviceErrors.Guest(_cid, $"{Name} descriptor {i} is device-{(deviceWrites ? "readable" : "writable")}; the {Name} queue takes only device-{(deviceWrites ? "writable" : "readable")} buffers");
            if (!memory.Contains(address, length))
                throw DeviceErrors.Guest(_cid, $"{Name} descriptor {i} points outside guest memory (0x{address:x}, {length} bytes)");
            chain.Add(address, length);
            if ((flags & VIRTQ_DESC_F_NEXT) == 0)
                return true;
            i = next;
        }
    }

    /// <summary>Gives back the chain just popped (it will be popped again).</summary>
    public void Unpop() => _lastAvail--;

    /// <summary>Returns a chain to the driver with <paramref name="written"/> bytes written into it.</summary>
    public void PushUsed(ushort head, uint written)
    {
        var entry = new Span<byte>(_used + 4 + (8 * (_usedIndex % Size)), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(entry, head);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], written);
        _usedIndex++;
        // Release: the entry is visible before the index that publishes it.
        Volatile.Write(ref *(ushort*)(_used + 2), _usedIndex);
        _unsignalled++;
    }

    /// <summary>
    /// Signals the call eventfd if buffers were returned since the last call and the driver wants interrupts; true
    /// when it signalled.
    /// </summary>
    public bool Notify()
    {
        if (_unsignalled == 0 || _avail == null)
            return false;
        _unsignalled = 0;
        // The used index store must be visible before the driver's flags are read (store-load order).
        Interlocked.MemoryBarrier();
        var flags = Volatile.Read(ref *(ushort*)_avail);
        if ((flags & VIRTQ_AVAIL_F_NO_INTERRUPT) != 0 || Call is not { } call)
            return false;
        _ = NativeIo.Signal(call);
        return true;
    }

    /// <summary>Closes the eventfds and forgets the rings.</summary>
    public void Dispose()
    {
        Stop();
        SetCall(null);
        SetError(null);
    }
}

/// <summary>The buffers of one descriptor chain, in order (checked to lie in guest memory); reused for every chain.</summary>
internal sealed class DescriptorChain(int capacity)
{
    private readonly (ulong Address, uint Length)[] _segments = new (ulong, uint)[capacity];

    /// <summary>The head index, returned on the used ring.</summary>
    public ushort Head { get; private set; }

    /// <summary>The number of descriptors.</summary>
    public int Count { get; private set; }

    /// <summary>Total bytes of all buffers.</summary>
    public ulong Length { get; private set; }

    public void Reset(ushort head)
    {
        Head = head;
        Count = 0;
        Length = 0;
    }

    public void Add(ulong address, uint length)
    {
        _segments[Count++] = (address, length);
        Length += length;
    }

    /// <summary>Copies bytes from offset <paramref name="offset"/> of the chain into <paramref name="destination"/>; returns how many.</summary>
    public int Read(GuestMemory memory, ulong offset, Span<byte> destination)
    {
        var done = 0;
        for (var i = 0; i < Count && done < destination.Length; i++)
        {
            var (address, length) = _segments[i];
            if (offset >= length)
            {
                offset -= length;
                continue;
            }
            var n = (int)Math.Min(length - offset, (ulong)(destination.Length - done));
            memory.Read(address + offset, destination.Slice(done, n));
            done += n;
            offset = 0;
        }
        return done;
    }

    /// <summary>Copies <paramref name="source"/> into the chain from offset <paramref name="offset"/>; returns how many bytes fitted.</summary>
    public int Write(GuestMemory memory, ulong offset, ReadOnlySpan<byte> source)
    {
        var done = 0;
        for (var i = 0; i < Count && done < source.Length; i++)
        {
            var (address, length) = _segments[i];
            if (offset >= length)
            {
                offset -= length;
                continue;
            }
            var n = (int)Math.Min(length - offset, (ulong)(source.Length - done));
            memory.Write(address + offset, source.Slice(done, n));
            done += n;
            offset = 0;
        }
        return done;
    }
}
