using System.Buffers.Binary;
using Vmci.Sim.VhostUser.Linux;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// The driver side of one split virtqueue, as the guest's virtio driver keeps it: a descriptor table with a free list,
/// the available ring it publishes chains on (then kicks), and the used ring it reads back when the device calls.
/// Hostile tests write raw descriptors and indexes through <see cref="WriteDescriptor"/> and <see cref="Publish"/>.
/// </summary>
internal sealed class FakeQueue : IDisposable
{
    public const ushort F_NEXT = 1;
    public const ushort F_WRITE = 2;
    public const ushort F_INDIRECT = 4;

    private readonly FakeGuestMemory _memory;
    private readonly Stack<ushort> _free = new();
    private readonly Dictionary<ushort, List<ushort>> _chains = [];
    private ushort _availIndex;
    private ushort _lastUsed;

    public FakeQueue(FakeGuestMemory memory, int index, ushort size = 128)
    {
        _memory = memory;
        Index = index;
        Size = size;
        Descriptors = memory.AllocateRing(16UL * size, 16);
        Available = memory.AllocateRing(6UL + (2UL * size), 2);
        Used = memory.AllocateRing(6UL + (8UL * size), 4);
        for (var i = size - 1; i >= 0; i--)
            _free.Push((ushort)i);
        Kick = NativeIo.CreateEventFd(out _)!;
        Call = NativeIo.CreateEventFd(out _)!;
    }

    public int Index { get; }

    public ushort Size { get; }

    public ulong Descriptors { get; }

    public ulong Available { get; }

    public ulong Used { get; }

    /// <summary>The kick eventfd (the device polls it; the driver signals it).</summary>
    public FileDescriptor Kick { get; }

    /// <summary>The call eventfd (the device signals it; the driver waits on it).</summary>
    public FileDescriptor Call { get; }

    public int FreeDescriptors => _free.Count;

    /// <summary>Publishes a chain of buffers (guest address, length, device-writable) and returns its head.</summary>
    public ushort AddChain(params (ulong Address, uint Length, bool Writable)[] buffers)
    {
        Assert.True(_free.Count >= buffers.Length, $"queue {Index}: {_free.Count} free descriptors, {buffers.Length} needed");
        var indexes = new List<ushort>();
        for (var i = 0; i < buffers.Length; i++)
            indexes.Add(_free.Pop());
        for (var i = 0; i < buffers.Length; i++)
        {
            var flags = (ushort)((buffers[i].Writable ? F_WRITE : 0) | (i + 1 < buffers.Length ? F_NEXT : 0));
            WriteDescriptor(indexes[i], buffers[i].Address, buffers[i].Length, flags, i + 1 < buffers.Length ? indexes[i + 1] : (ushort)0);
        }
        _chains[indexes[0]] = indexes;
        Publish(indexes[0]);
        return indexes[0];
    }

    /// <summary>Writes descriptor <paramref name="index"/> as given (hostile tests: anything goes).</summary>
    public void WriteDescriptor(ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = _memory.At(Descriptors + (16UL * index), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Puts <paramref name="head"/> on the available ring and moves the index by one.</summary>
    public void Publish(ushort head)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_memory.At(Available + 4 + (2UL * (ulong)(_availIndex % Size)), 2), head);
        SetAvailableIndex((ushort)(_availIndex + 1));
    }

    /// <summary>Writes the available index (release: ring entries first).</summary>
    public unsafe void SetAvailableIndex(ushort value)
    {
        _availIndex = value;
        Volatile.Write(ref *(ushort*)_memory.Pointer(Available + 2), value);
    }

    /// <summary>Sets the available ring's flags (VIRTQ_AVAIL_F_NO_INTERRUPT = 1).</summary>
    public unsafe void SetAvailableFlags(ushort flags) => Volatile.Write(ref *(ushort*)_memory.Pointer(Available), flags);

    /// <summary>Kicks the device (one signal of the kick eventfd).</summary>
    public void Notify()
    {
        Assert.Equal(0, NativeIo.Signal(Kick));
        Kicks++;
    }

    /// <summary>How many kicks the driver gave the device.</summary>
    public long Kicks { get; private set; }

    /// <summary>How many interrupts (call eventfd signals) the driver has taken so far; see <see cref="TakeInterrupts"/>.</summary>
    public long Interrupts { get; private set; }

    /// <summary>Takes the interrupts signalled since the last wait (the call eventfd's count); returns <see cref="Interrupts"/>.</summary>
    public long TakeInterrupts()
    {
        Interrupts += (long)NativeIo.Drain(Call);
        return Interrupts;
    }

    /// <summary>The device's used index.</summary>
    public unsafe ushort UsedIndex => Volatile.Read(ref *(ushort*)_memory.Pointer(Used + 2));

    /// <summary>Takes the next used entry (and frees its descriptors); false when the device returned none.</summary>
    public bool TryTakeUsed(out ushort head, out uint written)
    {
        head = 0;
        written = 0;
        if (UsedIndex == _lastUsed)
            return false;
        var entry = _memory.At(Used + 4 + (8UL * (ulong)(_lastUsed % Size)), 8);
        head = (ushort)BinaryPrimitives.ReadUInt32LittleEndian(entry);
        written = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
        _lastUsed++;
        if (_chains.Remove(head, out var indexes))
        {
            foreach (var i in indexes)
                _free.Push(i);
        }
        return true;
    }

    /// <summary>Waits (on the call eventfd, up to the watchdog) until the device has returned a buffer not yet taken.</summary>
    public Task WaitUsedAsync(CancellationToken ct) => WaitCallAsync(() =>
    {
        TakeInterrupts();
        return UsedIndex != _lastUsed;
    }, "returned no buffer", ct);

    /// <summary>Waits (up to the watchdog) for the device's next interrupt on this queue and takes it.</summary>
    public Task WaitInterruptAsync(CancellationToken ct)
    {
        var before = Interrupts;
        return WaitCallAsync(() => TakeInterrupts() != before, "sent no interrupt", ct);
    }

    /// <summary>Until <paramref name="done"/>, waits on the call eventfd (the device's event) up to the watchdog.</summary>
    private async Task WaitCallAsync(Func<bool> done, string failure, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Watchdog.DefaultTimeout;
        while (!done())
        {
            ct.ThrowIfCancellationRequested();
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"queue {Index}: the device {failure} within the watchdog");
            // Poll the eventfd on a pool thread (bounded slices keep cancellation responsive).
            await Task.Run(() => NativeIo.WaitFor(Call, 1, (int)Math.Min(left.TotalMilliseconds, 200)), ct);
        }
    }

    public void Dispose()
    {
        Kick.Dispose();
        Call.Dispose();
    }
}
