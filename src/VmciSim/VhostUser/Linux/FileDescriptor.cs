using System.Runtime.InteropServices;

namespace Vmci.Sim.VhostUser.Linux;

/// <summary>
/// Owns one Linux file descriptor (an eventfd, a memfd received over SCM_RIGHTS, a socketpair end) from the moment it
/// exists: closed exactly once, on dispose or by the finalizer. -1 is invalid; 0 is a valid descriptor.
/// </summary>
internal sealed class FileDescriptor : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public FileDescriptor(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>The raw descriptor, for poll(2) sets built while the owner keeps this handle alive.</summary>
    public int Value => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.close((int)handle) == 0;
}

/// <summary>
/// Owns one mmap(2) mapping: unmapped exactly once, on dispose or by the finalizer. A region of guest memory that the
/// device reads and writes; nothing may hold a pointer into it past its dispose.
/// </summary>
internal sealed class MemoryMapping : SafeHandle
{
    private readonly nuint _length;

    private MemoryMapping(nint address, nuint length)
        : base(Interop.MAP_FAILED, ownsHandle: true)
    {
        _length = length;
        SetHandle(address);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == Interop.MAP_FAILED || handle == 0;

    /// <summary>The first mapped byte.</summary>
    public unsafe byte* Pointer => (byte*)handle;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> from offset 0, shared, read and write; errno on failure.</summary>
    public static MemoryMapping? TryMap(FileDescriptor fd, ulong length, out int errno)
    {
        var address = Interop.mmap(0, (nuint)length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
        errno = address == Interop.MAP_FAILED ? Interop.LastErrno : 0;
        return address == Interop.MAP_FAILED ? null : new MemoryMapping(address, (nuint)length);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.munmap(handle, _length) == 0;
}
