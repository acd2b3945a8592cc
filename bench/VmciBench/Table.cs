using System.Globalization;

namespace VmciBench;

/// <summary>The printed table and its JSON rows: one column per path, then each path's ratio to the first (tcp).</summary>
internal sealed class Table(string[] paths)
{
    public string[] Paths { get; } = paths;

    public List<Dictionary<string, object>> Rows { get; } = [];

    public void Header()
    {
        var line = $"{"test",-24}" + string.Concat(Paths.Select(p => $" {p,14}"))
            + string.Concat(Paths.Skip(1).Select(p => $" {p + "/tcp",16}"));
        Console.WriteLine(line);
    }

    /// <summary>Adds and prints one row; <paramref name="size"/> is the message size of a throughput row (0 otherwise).</summary>
    public void Row(string test, double[] values, bool higherIsBetter, int size)
    {
        var ratios = values.Skip(1).Select(v => values[0] > 0 ? v / values[0] : 0).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{test,-24}")
            + string.Concat(values.Select(v => string.Create(CultureInfo.InvariantCulture, $" {v,14:N1}")))
            + string.Concat(ratios.Select(r => string.Create(CultureInfo.InvariantCulture, $" {r,16:F2}"))));
        var row = new Dictionary<string, object> { ["test"] = test, ["higherIsBetter"] = higherIsBetter, ["size"] = size };
        for (var i = 0; i < Paths.Length; i++)
            row[Paths[i]] = values[i];
        for (var i = 1; i < Paths.Length; i++)
            row[Paths[i] + "/tcp"] = ratios[i - 1];
        Rows.Add(row);
    }

    /// <summary>The ratio of <paramref name="path"/> to tcp in the row named <paramref name="test"/>.</summary>
    public double Ratio(string test, string path) =>
        Rows.First(r => (string)r["test"] == test)[path + "/tcp"] is double d ? d : 0;

    /// <summary>(size, value) of the MB/s rows of one path, for the plot.</summary>
    public IEnumerable<(int Size, double MBPerSec)> MBPerSec(string path) =>
        Rows.Where(r => ((string)r["test"]).EndsWith("MB/s", StringComparison.Ordinal)).Select(r => ((int)r["size"], (double)r[path]));
}

/// <summary>The targets for the vmci path and the CI guard (fails only below HALF a target).</summary>
internal static class Targets
{
    private static readonly (string Test, double Min, string Text)[] Throughput =
    [
        ("push/pull 16 B MB/s", 0.8, ">= 0.8x tcp"),
        ("push/pull 1 KiB MB/s", 0.9, ">= 0.9x tcp"),
        ("push/pull 64 KiB MB/s", 0.9, ">= 0.9x tcp"),
    ];

    public static List<Dictionary<string, object>> Check(Table table, string path)
    {
        var checks = new List<Dictionary<string, object>>();
        Console.WriteLine();
        Console.WriteLine($"targets for {path}:");
        foreach (var (test, min, text) in Throughput)
            Add(checks, $"{test} {text}", table.Ratio(test, path), min, higherIsBetter: true);
        Add(checks, "req/rep p50 <= 1.3x tcp", table.Ratio("req/rep p50 us", path), 1.3, higherIsBetter: false);
        return checks;
    }

    public static void Add(List<Dictionary<string, object>> checks, string name, double value, double target, bool higherIsBetter)
    {
        var met = higherIsBetter ? value >= target : value <= target;
        // Half the target: half the throughput, or twice the latency / memory.
        var guardOk = higherIsBetter ? value >= target / 2 : value <= target * 2 && value > 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-40} {value,10:F2}  {(met ? "met" : "MISSED")}{(guardOk ? "" : "  (below half the target: guard fails)")}"));
        checks.Add(new() { ["check"] = name, ["value"] = value, ["target"] = target, ["met"] = met, ["guardOk"] = guardOk });
    }

    public static int Guard(List<Dictionary<string, object>> checks)
    {
        var bad = checks.Where(c => !(bool)c["guardOk"]).Select(c => (string)c["check"]).ToList();
        if (bad.Count == 0)
        {
            Console.WriteLine("guard: ok (every figure within half of its target)");
            return 0;
        }
        Console.Error.WriteLine("guard: FAILED — below half the target: " + string.Join("; ", bad));
        return 1;
    }
}
