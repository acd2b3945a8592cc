using System.Runtime.InteropServices;
using Vmci.Sim.VhostUser.Linux;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// The fake QEMU's guest RAM: one memfd of 8 MiB, shared-mapped here and handed to the device as two regions of the
/// memory table (region A: guest address 0, 1 MiB, the rings; region B: guest address 0x40000000, 7 MiB, the buffers),
/// as QEMU splits RAM around holes. The front-end's "user addresses" are made-up numbers the device must translate.
/// </summary>
internal sealed unsafe partial class FakeGuestMemory : IDisposable
{
    public const ulong RegionAGuest = 0;
    public const ulong RegionASize = 1 << 20;
    public const ulong RegionBGuest = 0x4000_0000;
    public const ulong RegionBSize = 7 << 20;
    public const ulong UserBase = 0x7f00_0000_0000;
    public const ulong FileSize = RegionASize + RegionBSize;

    private readonly MemoryMapping _mapping;
    private ulong _nextA = 0x1000;
    private ulong _nextB;

    public FakeGuestMemory(ulong? announcedFileSize = null)
    {
        var fd = memfd_create("fake-guest-ram", MFD_CLOEXEC);
        Assert.True(fd >= 0, $"memfd_create: errno {Marshal.GetLastPInvokeError()}");
        File = new FileDescriptor(fd);
        Assert.Equal(0, ftruncate(File, (long)(announcedFileSize ?? FileSize)));
        _mapping = MemoryMapping.TryMap(File, announcedFileSize ?? FileSize, out var errno) ?? throw new InvalidOperationException($"mmap: errno {errno}");
    }

    /// <summary>The memfd (the fake QEMU keeps it; the device gets a duplicate through SCM_RIGHTS).</summary>
    public FileDescriptor File { get; }

    /// <summary>The memory table as SET_MEM_TABLE sends it: guest address, size, user address, file offset.</summary>
    public (ulong Guest, ulong Size, ulong User, ulong Offset)[] Regions { get; } =
    [
        (RegionAGuest, RegionASize, UserBase, 0),
        (RegionBGuest, RegionBSize, UserBase + RegionASize, RegionASize),
    ];

    /// <summary>Takes <paramref name="size"/> bytes of region A (rings), aligned.</summary>
    public ulong AllocateRing(ulong size, ulong align = 16)
    {
        _nextA = (_nextA + align - 1) & ~(align - 1);
        var at = _nextA;
        _nextA += size;
        Assert.True(_nextA <= RegionASize, "region A is full");
        return RegionAGuest + at;
    }

    /// <summary>Takes <paramref name="size"/> bytes of region B (buffers).</summary>
    public ulong AllocateBuffer(ulong size)
    {
        _nextB = (_nextB + 63) & ~63UL;
        var at = _nextB;
        _nextB += size;
        Assert.True(_nextB <= RegionBSize, "region B is full");
        return RegionBGuest + at;
    }

    /// <summary>The front-end's user address of a guest address.</summary>
    public static ulong User(ulong guest) => guest >= RegionBGuest ? UserBase + RegionASize + (guest - RegionBGuest) : UserBase + guest;

    /// <summary>The bytes at a guest address.</summary>
    public Span<byte> At(ulong guest, int length)
    {
        var offset = guest >= RegionBGuest ? RegionASize + (guest - RegionBGuest) : guest;
        Assert.True(offset + (ulong)length <= FileSize, $"guest address 0x{guest:x} + {length} is outside the fake RAM");
        return new Span<byte>(_mapping.Pointer + offset, length);
    }

    /// <summary>A pointer to a guest address (ring fields are read and written with Volatile).</summary>
    public byte* Pointer(ulong guest) => (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref At(guest, 1)[0]);

    public void Dispose()
    {
        _mapping.Dispose();
        File.Dispose();
    }

    private const uint MFD_CLOEXEC = 1;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(SafeHandle fd, long length);
}
