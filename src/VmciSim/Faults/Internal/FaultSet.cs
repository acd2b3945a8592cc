namespace Vmci.Sim.Internal;

/// <summary>One version of a fabric's faults (immutable), and what they mean for a pair of machines.</summary>
internal sealed class FaultSet(long version, long nextId, IReadOnlyList<SimFault> faults)
{
    public static readonly FaultSet Empty = new(0, 1, []);

    public long Version { get; } = version;

    public long NextId { get; } = nextId;

    public IReadOnlyList<SimFault> Faults { get; } = faults;

    /// <summary>A connection between <paramref name="a"/> and <paramref name="b"/> may not move a byte now.</summary>
    public bool IsStalled(uint a, uint b)
    {
        foreach (var f in Faults)
        {
            if ((f.Kind == SimFaultKind.Pause && (f.Cid == a || f.Cid == b)) || (f.Kind == SimFaultKind.Partition && f.Matches(a, b)))
                return true;
        }
        return false;
    }

    /// <summary>A fault that acts on the bytes of the pair (latency, bandwidth, partition, pause) is configured.</summary>
    public bool ActsOnBytes(uint a, uint b) => IsStalled(a, b) || Latency(a, b) is not null || BytesPerSecond(a, b) > 0;

    /// <summary>The largest latency fault of the pair, or null.</summary>
    public SimFault? Latency(uint a, uint b) =>
        Faults.Where(f => f.Kind == SimFaultKind.Latency && f.Matches(a, b)).MaxBy(f => f.LatencyMilliseconds + f.JitterMilliseconds);

    /// <summary>The tightest bandwidth cap of the pair in bytes per second, 0 for none.</summary>
    public long BytesPerSecond(uint a, uint b) =>
        Faults.Where(f => f.Kind == SimFaultKind.Bandwidth && f.Matches(a, b) && f.BytesPerSecond > 0).Select(f => f.BytesPerSecond).DefaultIfEmpty(0).Min();

    /// <summary>A reset or CID change of the pair added after <paramref name="createdUtc"/>.</summary>
    public SimFault? ResetSince(uint a, uint b, DateTime createdUtc) =>
        Faults.FirstOrDefault(f => f.AddedUtc > createdUtc
            && ((f.Kind == SimFaultKind.Reset && f.Matches(a, b)) || (f.Kind == SimFaultKind.CidChange && (f.Cid == a || f.Cid == b))));

    /// <summary>Connections from <paramref name="source"/> to <paramref name="destination"/> are refused.</summary>
    public bool IsRefused(uint source, uint destination) =>
        Faults.Any(f => f.Kind == SimFaultKind.Refuse && f.Cid == destination && (f.Peer is null || f.Peer == source));

    /// <summary>A machine's CID after CID changes (a VM restored from a snapshot under another CID).</summary>
    public uint Resolve(uint cid)
    {
        for (var hops = 0; hops < 16; hops++)
        {
            var change = Faults.FirstOrDefault(f => f.Kind == SimFaultKind.CidChange && f.Cid == cid);
            if (change is null)
                return cid;
            cid = change.ToCid;
        }
        return cid;
    }
}
