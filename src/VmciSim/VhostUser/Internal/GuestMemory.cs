using Vmci.Sim.VhostUser.Linux;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>One region of the front-end's memory table, as SET_MEM_TABLE describes it.</summary>
/// <param name="GuestAddress">Guest physical address of the first byte.</param>
/// <param name="Size">Bytes in the region.</param>
/// <param name="UserAddress">The front-end's own virtual address of the first byte (virtqueue addresses use these).</param>
/// <param name="MmapOffset">Where the region starts in the file.</param>
internal readonly record struct MemoryRegionDescription(ulong GuestAddress, ulong Size, ulong UserAddress, ulong MmapOffset);

/// <summary>
/// The guest's memory as the device sees it: the regions of the front-end's memory table, each a shared mapping of
/// the memfd that backs guest RAM. Every address the guest gives (descriptors) and every ring address the front-end
/// gives is checked here: a range is usable only if every byte of it lies in mapped regions. Owned by the device
/// thread; a new table replaces the old one only between two packets.
/// </summary>
internal sealed unsafe class GuestMemory : IDisposable
{
    /// <summary>The most regions a table may have (VHOST_MEMORY_BASELINE_NREGIONS).</summary>
    public const int MaxRegions = 8;

    private Region[] _regions = [];

    /// <summary>The number of mapped regions.</summary>
    public int RegionCount => _regions.Length;

    /// <summary>
    /// Maps the regions (taking no ownership of <paramref name="files"/>) and replaces the current table; the old
    /// mappings are released. Returns the rule broken when the table is refused (nothing changes then).
    /// </summary>
    public string? Replace(IReadOnlyList<MemoryRegionDescription> regions, IReadOnlyList<FileDescriptor> files)
    {
        var mapped = new List<Region>();
        try
        {
            for (var i = 0; i < regions.Count; i++)
            {
                var r = regions[i];
                if (r.Size == 0 || r.GuestAddress + r.Size < r.GuestAddress || r.UserAddress + r.Size < r.UserAddress
                    || r.MmapOffset + r.Size < r.MmapOffset)
                    return $"memory region {i} (guest 0x{r.GuestAddress:x}, {r.Size} bytes, offset {r.MmapOffset}) is empty or wraps around";
                foreach (var other in mapped)
                {
                    if (r.GuestAddress < other.GuestAddress + other.Size && other.GuestAddress < r.GuestAddress + r.Size)
                        return $"memory region {i} (guest 0x{r.GuestAddress:x}, {r.Size} bytes) overlaps another region";
                }
                var fileSize = NativeIo.FileSize(files[i]);
                if (fileSize < 0)
                    return $"memory region {i}: its file descriptor cannot be sized (errno {-fileSize})";
                if ((ulong)fileSize < r.MmapOffset + r.Size)
                    return $"memory region {i} ends at byte {r.MmapOffset + r.Size} of a file of {fileSize} bytes (mapping it would fault)";
                var mapping = MemoryMapping.TryMap(files[i], r.MmapOffset + r.Size, out var errno);
                if (mapping is null)
                    return $"memory region {i} ({r.Size} bytes) cannot be mapped (errno {errno})";
                mapped.Add(new Region(r.GuestAddress, r.Size, r.UserAddress, mapping.Pointer + r.MmapOffset, mapping));
            }
            var old = _regions;
            _regions = [.. mapped];
            mapped.Clear();
            foreach (var region in old)
                region.Mapping.Dispose();
            return null;
        }
        finally
        {
            foreach (var region in mapped)
                region.Mapping.Dispose();
        }
    }

    /// <summary>A pointer to <paramref name="length"/> bytes at front-end virtual address <paramref name="userAddress"/>, all in one region; null otherwise.</summary>
    public byte* TranslateUser(ulong userAddress, ulong length)
    {
        foreach (var r in _regions)
        {
            if (userAddress >= r.UserAddress && userAddress - r.UserAddress < r.Size && length <= r.Size - (userAddress - r.UserAddress))
                return r.Host + (userAddress - r.UserAddress);
        }
        return null;
    }

    /// <summary>True when every byte of [<paramref name="guestAddress"/>, +<paramref name="length"/>) is guest memory (regions may be adjacent).</summary>
    public bool Contains(ulong guestAddress, ulong length)
    {
        if (guestAddress + length < guestAddress)
            return false;
        while (length > 0)
        {
            var r = Find(guestAddress);
            if (r is null)
                return false;
            var available = r.Size - (guestAddress - r.GuestAddress);
            var step = Math.Min(available, length);
            guestAddress += step;
            length -= step;
        }
        return true;
    }

    /// <summary>Copies guest memory at <paramref name="guestAddress"/> into <paramref name="destination"/> (checked with <see cref="Contains"/> first).</summary>
    public void Read(ulong guestAddress, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var piece = Piece(guestAddress, destination.Length);
            piece.CopyTo(destination);
            destination = destination[piece.Length..];
            guestAddress += (ulong)piece.Length;
        }
    }

    /// <summary>Copies <paramref name="source"/> into guest memory at <paramref name="guestAddress"/> (checked with <see cref="Contains"/> first).</summary>
    public void Write(ulong guestAddress, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var piece = Piece(guestAddress, source.Length);
            source[..piece.Length].CopyTo(piece);
            source = source[piece.Length..];
            guestAddress += (ulong)piece.Length;
        }
    }

    /// <summary>Releases every mapping.</summary>
    public void Dispose()
    {
        foreach (var region in _regions)
            region.Mapping.Dispose();
        _regions = [];
    }

    /// <summary>The longest mapped span at <paramref name="guestAddress"/>, at most <paramref name="max"/> bytes; throws past the regions (a bug: ranges are checked first).</summary>
    private Span<byte> Piece(ulong guestAddress, int max)
    {
        var r = Find(guestAddress) ?? throw new InvalidOperationException($"guest address 0x{guestAddress:x} was not checked");
        var available = r.Size - (guestAddress - r.GuestAddress);
        return new Span<byte>(r.Host + (guestAddress - r.GuestAddress), (int)Math.Min(available, (ulong)max));
    }

    private Region? Find(ulong guestAddress)
    {
        foreach (var r in _regions)
        {
            if (guestAddress >= r.GuestAddress && guestAddress - r.GuestAddress < r.Size)
                return r;
        }
        return null;
    }

    private sealed class Region(ulong guestAddress, ulong size, ulong userAddress, byte* host, MemoryMapping mapping)
    {
        public ulong GuestAddress { get; } = guestAddress;

        public ulong Size { get; } = size;

        public ulong UserAddress { get; } = userAddress;

        public byte* Host { get; } = host;

        public MemoryMapping Mapping { get; } = mapping;
    }
}
