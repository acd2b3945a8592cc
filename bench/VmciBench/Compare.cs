using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace VmciBench;

/// <summary>
/// <c>compare A.json B.json [C.json ...]</c>: do repeated <c>e2e --json</c> runs agree? For every ratio to the baseline
/// (each row, each path), the value of each run and the largest deviation of a run from the runs' mean; a ratio agrees
/// when every run is within <see cref="Tolerance"/> of that mean (the msg/s rows, same ratios as MB/s, and the p99 tails are
/// left out). Exit 0 when all agree, 1 when one does not, 2 on bad input.
/// </summary>
internal static class Compare
{
    /// <summary>How far (relative) a run's ratio may lie from the mean of the runs.</summary>
    public const double Tolerance = 0.15;

    public static int Run(FileInfo[] files)
    {
        if (files.Length < 2)
        {
            Console.Error.WriteLine("VmciBench compare: give at least two e2e --json files");
            return 2;
        }
        var runs = new List<Dictionary<string, double>>();
        var order = new List<string>();
        foreach (var file in files)
        {
            try
            {
                runs.Add(Ratios(file, order));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
            {
                Console.Error.WriteLine($"VmciBench compare: {file.FullName}: {e.Message}");
                return 2;
            }
        }
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded).AddColumn("ratio");
        foreach (var file in files)
            table.AddColumn(new TableColumn(Markup.Escape(file.Name)).RightAligned());
        table.AddColumn(new TableColumn("max deviation from mean").RightAligned()).AddColumn("");
        var disagree = 0;
        foreach (var key in order)
        {
            var values = runs.Select(r => r.TryGetValue(key, out var v) ? v : double.NaN).ToArray();
            if (values.Any(double.IsNaN))
                continue;
            var mean = values.Average();
            var deviation = mean > 0 ? values.Max(v => Math.Abs(v / mean - 1)) : 0;
            var agrees = deviation <= Tolerance;
            if (!agrees)
                disagree++;
            var cells = new List<string> { Markup.Escape(key) };
            cells.AddRange(values.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)));
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{deviation * 100:F0} %"));
            cells.Add(agrees ? "[green]agree[/]" : "[red]DISAGREE[/]");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        Console.WriteLine(disagree == 0
            ? $"compare: every ratio of the {files.Length} runs within ±{Tolerance * 100:F0} % of their mean"
            : $"compare: {disagree} ratio(s) differ by more than ±{Tolerance * 100:F0} % between runs");
        return disagree == 0 ? 0 : 1;
    }

    // "row | path/tcp" -> ratio, in the order of the first file.
    private static Dictionary<string, double> Ratios(FileInfo file, List<string> order)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(file.FullName));
        if (!json.RootElement.TryGetProperty("rows", out var rows) || rows.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("not an e2e --json file (no \"rows\" array)");
        var ratios = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var row in rows.EnumerateArray())
        {
            var test = row.GetProperty("test").GetString() ?? "";
            // msg/s gives the same ratio as MB/s; a p99 is one round's tail, not a figure to hold still.
            if (test.EndsWith("msg/s", StringComparison.Ordinal) || test.Contains("p99", StringComparison.Ordinal))
                continue;
            foreach (var property in row.EnumerateObject().Where(p => p.Name.EndsWith("/tcp", StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.Number))
            {
                var key = $"{test} | {property.Name}";
                ratios[key] = property.Value.GetDouble();
                if (!order.Contains(key))
                    order.Add(key);
            }
        }
        return ratios;
    }
}
