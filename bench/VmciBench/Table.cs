using System.Globalization;

namespace VmciBench;

/// <summary>
/// The printed table and its JSON rows. A row holds every round of every path; it shows each path's median, each path's
/// ratio to tcp (the median over rounds of the per-round ratio: rounds alternate paths, so a round's tcp figure and its
/// vmci figure saw the same load), and each path's spread ((max - min) / median of its rounds).
/// </summary>
internal sealed class Table(string[] paths)
{
    public string[] Paths { get; } = paths;

    public List<Dictionary<string, object>> Rows { get; } = [];

    public void Header()
    {
        Console.WriteLine($"{"test",-26}" + string.Concat(Paths.Select(p => $" {p,13}"))
            + string.Concat(Paths.Skip(1).Select(p => $" {Short(p) + "/tcp",11}")) + "   spread (max-min)/median per path");
    }

    /// <summary>Adds and prints one row from <paramref name="samples"/>[path][round]; <paramref name="size"/> is the message size of a throughput row (0 otherwise).</summary>
    public void Row(string test, double[][] samples, bool higherIsBetter, int size)
    {
        var medians = samples.Select(Median).ToArray();
        var ratios = samples.Skip(1).Select(s => Median(s.Zip(samples[0], (v, t) => t > 0 ? v / t : 0).ToArray())).ToArray();
        var spreads = samples.Select(s => Median(s) > 0 ? (s.Max() - s.Min()) / Median(s) * 100 : 0).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{test,-26}")
            + string.Concat(medians.Select(v => string.Create(CultureInfo.InvariantCulture, $" {v,13:N1}")))
            + string.Concat(ratios.Select(r => string.Create(CultureInfo.InvariantCulture, $" {r,11:F2}")))
            + "   " + string.Join(" ", spreads.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s,4:F0}%"))));
        var row = new Dictionary<string, object> { ["test"] = test, ["higherIsBetter"] = higherIsBetter, ["size"] = size, ["rounds"] = samples[0].Length };
        for (var i = 0; i < Paths.Length; i++)
        {
            row[Paths[i]] = medians[i];
            row[Paths[i] + " rounds"] = samples[i];
            row[Paths[i] + " spread%"] = spreads[i];
        }
        for (var i = 1; i < Paths.Length; i++)
            row[Paths[i] + "/tcp"] = ratios[i - 1];
        Rows.Add(row);
    }

    /// <summary>The ratio of <paramref name="path"/> to tcp in the row named <paramref name="test"/>.</summary>
    public double Ratio(string test, string path) =>
        Rows.FirstOrDefault(r => (string)r["test"] == test)?[path + "/tcp"] is double d ? d : 0;

    /// <summary>(size, median MB/s) of the MB/s rows of one path, for the plot.</summary>
    public IEnumerable<(int Size, double MBPerSec)> MBPerSec(string path) =>
        Rows.Where(r => ((string)r["test"]).EndsWith("MB/s", StringComparison.Ordinal)).Select(r => ((int)r["size"], (double)r[path]));

    internal static double Median(double[] values)
    {
        if (values.Length == 0)
            return 0;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Short(string path) => path.Replace("vmci ", "", StringComparison.Ordinal).Replace("(raw)", "", StringComparison.Ordinal);
}

/// <summary>
/// The targets (ratios to NetMQ tcp, medians of paired rounds): vmci direct — throughput ≥ 1.0x at every size, REQ/REP
/// p50 ≤ 1.0x, CPU per message ≤ 1.0x; the relay fallback — throughput ≥ 0.8x, p50 ≤ 1.4x. The CI guard fails only past
/// twice the margin: below half a throughput target, above twice a latency or CPU target.
/// </summary>
internal static class Targets
{
    public static readonly int[] Sizes = [16, 1024, 64 * 1024, 1024 * 1024];

    public static List<Dictionary<string, object>> Check(Table table, string direct, string relay)
    {
        var checks = new List<Dictionary<string, object>>();
        Console.WriteLine();
        Console.WriteLine("targets (ratio to tcp, median of paired rounds):");
        foreach (var size in Sizes)
        {
            var label = E2eBench.Label(size);
            Add(checks, $"{direct} push/pull {label} MB/s >= 1.0x", table.Ratio($"push/pull {label} MB/s", direct), 1.0, higherIsBetter: true);
            Add(checks, $"{direct} push/pull {label} cpu/msg <= 1.0x", table.Ratio($"push/pull {label} cpu us/msg", direct), 1.0, higherIsBetter: false);
        }
        Add(checks, $"{direct} req/rep p50 <= 1.0x", table.Ratio("req/rep p50 us", direct), 1.0, higherIsBetter: false);
        Add(checks, $"{direct} req/rep cpu/trip <= 1.0x", table.Ratio("req/rep cpu us/trip", direct), 1.0, higherIsBetter: false);
        foreach (var size in Sizes)
            Add(checks, $"{relay} push/pull {E2eBench.Label(size)} MB/s >= 0.8x", table.Ratio($"push/pull {E2eBench.Label(size)} MB/s", relay), 0.8, higherIsBetter: true);
        Add(checks, $"{relay} req/rep p50 <= 1.4x", table.Ratio("req/rep p50 us", relay), 1.4, higherIsBetter: false);
        return checks;
    }

    public static void Add(List<Dictionary<string, object>> checks, string name, double value, double target, bool higherIsBetter)
    {
        var met = higherIsBetter ? value >= target : value <= target && value > 0;
        var guardOk = higherIsBetter ? value >= target / 2 : value <= target * 2 && value > 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-44} {value,7:F2}  {(met ? "met" : "MISSED")}{(guardOk ? "" : "  (past twice the margin: guard fails)")}"));
        checks.Add(new() { ["check"] = name, ["value"] = value, ["target"] = target, ["met"] = met, ["guardOk"] = guardOk });
    }

    public static int Guard(List<Dictionary<string, object>> checks)
    {
        var bad = checks.Where(c => !(bool)c["guardOk"]).Select(c => (string)c["check"]).ToList();
        if (bad.Count == 0)
        {
            Console.WriteLine("guard: ok (every figure within twice its margin)");
            return 0;
        }
        Console.Error.WriteLine("guard: FAILED — past twice the margin: " + string.Join("; ", bad));
        return 1;
    }
}
