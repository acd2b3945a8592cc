using System.Text.Json.Serialization;

namespace Vmci.Sim;

/// <summary>The kinds of fault the simulator can inject (docs/reliability.md describes each one).</summary>
public enum SimFaultKind
{
    /// <summary>Every send of a matching connection waits <see cref="SimFault.LatencyMilliseconds"/> ± <see cref="SimFault.JitterMilliseconds"/> first.</summary>
    [JsonStringEnumMemberName("latency")]
    Latency,

    /// <summary>Each direction of a matching connection carries at most <see cref="SimFault.BytesPerSecond"/>.</summary>
    [JsonStringEnumMemberName("bandwidth")]
    Bandwidth,

    /// <summary>Live connections of the CID (pair) that exist when the fault is added are reset: ECONNRESET on both ends.</summary>
    [JsonStringEnumMemberName("reset")]
    Reset,

    /// <summary>The CID (pair) cannot talk: live connections stall, new connects wait and then fail with ETIMEDOUT.</summary>
    [JsonStringEnumMemberName("partition")]
    Partition,

    /// <summary>A suspended VM: everything of the CID stalls (nothing is lost) until the fault is cleared (resume).</summary>
    [JsonStringEnumMemberName("pause")]
    Pause,

    /// <summary>New connections to the CID are refused with ECONNRESET (the kernel's RST); live ones carry on.</summary>
    [JsonStringEnumMemberName("refuse")]
    Refuse,

    /// <summary>The VM came back from a snapshot as <see cref="SimFault.ToCid"/>: its listeners move there, its live connections reset.</summary>
    [JsonStringEnumMemberName("cid-change")]
    CidChange,
}

/// <summary>
/// One fault of a fabric, stored in <c>&lt;fabric&gt;/faults.json</c> so that every process sharing the fabric applies it.
/// </summary>
/// <param name="Kind">What the fault does.</param>
/// <param name="Cid">The machine it applies to.</param>
public sealed record SimFault(SimFaultKind Kind, uint Cid)
{
    /// <summary>Only connections between <see cref="Cid"/> and this peer CID; null: with every peer.</summary>
    public uint? Peer { get; init; }

    /// <summary>
    /// Only connections to this port of <see cref="Cid"/> (its listening side: one service, not the whole machine); null:
    /// every connection of the pair. Not used by <see cref="SimFaultKind.Pause"/> and <see cref="SimFaultKind.CidChange"/>,
    /// which concern the whole machine.
    /// </summary>
    public uint? Port { get; init; }

    /// <summary>Added one-way latency in milliseconds (<see cref="SimFaultKind.Latency"/>).</summary>
    public int LatencyMilliseconds { get; init; }

    /// <summary>Uniform jitter in milliseconds, added or removed at each send (<see cref="SimFaultKind.Latency"/>).</summary>
    public int JitterMilliseconds { get; init; }

    /// <summary>The rate cap per connection and direction (<see cref="SimFaultKind.Bandwidth"/>).</summary>
    public long BytesPerSecond { get; init; }

    /// <summary>The new CID (<see cref="SimFaultKind.CidChange"/>).</summary>
    public uint ToCid { get; init; }

    /// <summary>The identifier the fabric gave the fault when it was added (1, 2, …).</summary>
    public long Id { get; init; }

    /// <summary>When the fault was added; a reset or CID change applies to connections older than this.</summary>
    public DateTime AddedUtc { get; init; }

    /// <summary>True when the fault concerns a connection between machines <paramref name="a"/> and <paramref name="b"/>.</summary>
    /// <param name="a">One end's machine CID.</param>
    /// <param name="b">The other end's machine CID.</param>
    /// <param name="service">The connection's listening side: its machine CID and port.</param>
    public bool Matches(uint a, uint b, VsockAddress service) =>
        ((Cid == a && (Peer is null || Peer == b)) || (Cid == b && (Peer is null || Peer == a)))
        && (Port is null || (service.Cid == Cid && service.Port == Port));

    /// <inheritdoc/>
    public override string ToString()
    {
        var peer = (Peer is { } p ? $" --peer {p}" : "") + (Port is { } port ? $" --port {port}" : "");
        var detail = Kind switch
        {
            SimFaultKind.Latency => $" --ms {LatencyMilliseconds} --jitter {JitterMilliseconds}",
            SimFaultKind.Bandwidth => $" --bytes-per-second {BytesPerSecond}",
            SimFaultKind.CidChange => $" --to {ToCid}",
            _ => "",
        };
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"#{Id} {KindName(Kind)} --cid {Cid}{peer}{detail}");
    }

    /// <summary>The CLI and file name of a kind: <c>latency</c>, <c>bandwidth</c>, <c>reset</c>, <c>partition</c>, <c>pause</c>, <c>refuse</c>, <c>cid-change</c>.</summary>
    /// <param name="kind">The kind.</param>
    public static string KindName(SimFaultKind kind) => kind switch
    {
        SimFaultKind.CidChange => "cid-change",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a kind name (see <see cref="KindName"/>).</summary>
    /// <param name="name">The name.</param>
    /// <param name="kind">The kind.</param>
    public static bool TryParseKind(string name, out SimFaultKind kind)
    {
        foreach (var k in Enum.GetValues<SimFaultKind>())
        {
            if (string.Equals(KindName(k), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }
        kind = default;
        return false;
    }
}
