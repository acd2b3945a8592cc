using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Integration.Peer;

/// <summary>
/// What a ZeroMQ role did, printed by a peer as one line <c>result {json}</c> and parsed back by the test.
/// </summary>
/// <param name="Role">The role (<c>req</c>, <c>sub</c>, …, or <c>probe</c>).</param>
/// <param name="Cid">The VMCI context ID of the machine that played it.</param>
/// <param name="Sent">Messages sent (requests, replies, pushed or published messages).</param>
/// <param name="Received">Messages received (replies, requests, pulled or subscribed messages).</param>
/// <param name="Sum">The sum of the numbers received.</param>
/// <param name="Seqs">The distinct numbers received as sorted ranges, e.g. <c>0-9,12</c> (duplicates are counted in <paramref name="Received"/> only).</param>
/// <param name="Identities">For a ROUTER: messages received per DEALER identity.</param>
/// <param name="Resends">For a REQ with a reply timeout: requests sent again on a new socket (lazy pirate).</param>
/// <param name="Errno">For a probe: the errno name of the failed connect, or <c>none</c> when it connected.</param>
public sealed record PeerResult(
    string Role,
    uint Cid,
    int Sent,
    int Received,
    long Sum,
    string Seqs,
    IReadOnlyDictionary<string, int> Identities,
    int Resends = 0,
    string? Errno = null)
{
    /// <summary>The prefix of the result line.</summary>
    public const string Prefix = "result ";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The result line: <c>result {json}</c>.</summary>
    /// <returns>The line.</returns>
    public string ToLine() => Prefix + JsonSerializer.Serialize(this, Json);

    /// <summary>Finds and parses the result line among a peer's output lines.</summary>
    /// <param name="lines">The peer's output.</param>
    /// <returns>The result.</returns>
    /// <exception cref="InvalidOperationException">No result line.</exception>
    public static PeerResult Parse(IEnumerable<string> lines)
    {
        var line = lines.LastOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException("the peer printed no result line");
        return JsonSerializer.Deserialize<PeerResult>(line[Prefix.Length..], Json)
            ?? throw new InvalidOperationException($"unreadable result line: {line}");
    }

    /// <summary>Sorted, merged ranges of <paramref name="numbers"/>: 0,1,2,5,5 → <c>0-2,5</c>.</summary>
    /// <param name="numbers">Numbers in any order, duplicates allowed.</param>
    /// <returns>The ranges.</returns>
    public static string Ranges(IEnumerable<long> numbers)
    {
        var ranges = new List<(long First, long Last)>();
        foreach (var n in numbers.Distinct().Order())
        {
            if (ranges.Count > 0 && ranges[^1].Last == n - 1)
            {
                ranges[^1] = (ranges[^1].First, n);
            }
            else
            {
                ranges.Add((n, n));
            }
        }

        return string.Join(',', ranges.Select(r => Range(r.First, r.Last)));
    }

    /// <summary>The range text of <paramref name="first"/>…<paramref name="last"/>, as <see cref="Ranges"/> writes it.</summary>
    /// <param name="first">The first number.</param>
    /// <param name="last">The last number.</param>
    /// <returns>For example <c>0-9</c>.</returns>
    public static string Range(long first, long last) =>
        first == last ? first.ToString(CultureInfo.InvariantCulture) : FormattableString.Invariant($"{first}-{last}");
}
