using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Vmci.TestKit.Agent;

namespace Vmci.Cli.Conformance;

/// <summary>
/// The report formats of <c>vmci conformance</c>: one line per SPEC clause, every failure in full, every case on
/// <c>--verbose</c>, and the JSON file.
/// </summary>
internal static class ConformanceReport
{
    /// <summary>The SPEC's clauses, as the clause table names them.</summary>
    private static readonly Dictionary<string, string> Titles = new(StringComparer.Ordinal)
    {
        ["§1"] = "endpoint grammar",
        ["§2"] = "bind, LAST_ENDPOINT, unbind",
        ["§3"] = "connect",
        ["§4"] = "VMCI socket options",
        ["§5"] = "Linux AF_VSOCK facts",
        ["§6"] = "VMware facts",
        ["§7"] = "what the simulator reproduces",
        ["§8"] = "socket lifecycle",
        ["§9"] = "two machines",
        ["limits"] = "limits a hostile peer cannot get around",
        ["-"] = "(no clause)",
    };

    /// <summary>One line as a case finishes, for output that is not a terminal (no progress bar there).</summary>
    public static string ProgressLine(int index, CaseResult c) =>
        $"[grey]{index,4}[/] {Mark(c.Outcome)} {Markup.Escape(c.Case)} [grey]({Seconds(c.Duration)})[/]";

    /// <summary>One row per SPEC clause: what it covers, passed, failed, skipped.</summary>
    public static Table Clauses(ConformanceRun run)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"zmq_vmci(7) conformance: [bold]{Markup.Escape(run.Info.Title)}[/]{Markup.Escape(Pair(run))}")
            .AddColumn("SPEC").AddColumn("Covers")
            .AddColumn(new TableColumn("Passed").RightAligned()).AddColumn(new TableColumn("Failed").RightAligned())
            .AddColumn(new TableColumn("Skipped").RightAligned());
        foreach (var group in run.Cases.GroupBy(c => c.Clause).OrderBy(g => ClauseOrder(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var failed = group.Count(c => c.Outcome == Outcome.Failed);
            table.AddRow(
                Markup.Escape(group.Key),
                Markup.Escape(Title(group.Key)),
                Count(group.Count(c => c.Outcome == Outcome.Passed), "green"),
                Count(failed, "red"),
                Count(group.Count(c => c.Outcome == Outcome.Skipped), "yellow"));
        }
        return table;
    }

    /// <summary>Every failed case with its whole message (nothing for a run without failures).</summary>
    public static IEnumerable<string> Failures(ConformanceRun run)
    {
        foreach (var (name, c) in Named(run).Where(n => n.Case.Outcome == Outcome.Failed))
        {
            yield return $"[red]FAIL[/] {Markup.Escape(c.Clause)} {Markup.Escape(name)} [grey]({Seconds(c.Duration)})[/]";
            foreach (var line in (c.Message ?? "(no message)").Split('\n'))
                yield return "     " + Markup.Escape(line.TrimEnd());
        }
    }

    /// <summary>Every case (<c>--verbose</c>): case, SPEC clause, result and time, by clause then name; skip reasons below.</summary>
    public static Table Cases(ConformanceRun run)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"every case: [bold]{Markup.Escape(run.Info.Title)}[/]")
            .AddColumn("Case").AddColumn("SPEC").AddColumn("Result").AddColumn(new TableColumn("Time").RightAligned());
        foreach (var (name, c) in Named(run))
        {
            var result = c.Outcome switch
            {
                Outcome.Passed => "[green]pass[/]",
                Outcome.Failed => "[red]FAIL[/]",
                _ => "[yellow]skip[/]",
            };
            var cell = Markup.Escape(name);
            if (c.Message is { Length: > 0 } message && c.Outcome != Outcome.Passed)
                cell += $"\n[grey]{Markup.Escape(FirstLine(message))}[/]";
            table.AddRow(cell, Markup.Escape(c.Clause), result, Seconds(c.Duration));
        }
        return table;
    }

    /// <summary>The JSON report: where and when, the counts, and every case under a name unique in the file.</summary>
    public static string Json(ConformanceRun run)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("backend", run.Info.Backend);
            w.WriteString("host", run.Info.Host);
            if (run.Info.Cid is { } cid)
                w.WriteNumber("cid", cid);
            else
                w.WriteNull("cid");
            w.WriteString("kernel", run.Info.Kernel);
            w.WriteString("toolVersion", run.Info.ToolVersion);
            if (run.Machines is var (local, peer))
            {
                w.WriteStartObject("machines");
                Machine(w, "local", local);
                Machine(w, "peer", peer);
                w.WriteEndObject();
            }
            w.WriteString("started", run.Started.ToString("O", CultureInfo.InvariantCulture));
            w.WriteNumber("elapsedSeconds", Math.Round(run.Elapsed.TotalSeconds, 3));
            w.WriteNumber("passed", run.Passed);
            w.WriteNumber("failed", run.Failed);
            w.WriteNumber("skipped", run.Skipped);
            w.WriteStartArray("cases");
            foreach (var (name, c) in Named(run))
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("spec", c.Clause);
                w.WriteString("result", c.Outcome.ToString().ToLowerInvariant());
                w.WriteNumber("seconds", Math.Round(c.Duration.TotalSeconds, 3));
                if (c.Message is null)
                    w.WriteNull("message");
                else
                    w.WriteString("message", c.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The cases by clause then name, each under a name unique in the run: a second case with the same display name (a
    /// theory whose data display alike) becomes <c>name #2</c>.
    /// </summary>
    internal static IEnumerable<(string Name, CaseResult Case)> Named(ConformanceRun run)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in run.Cases.OrderBy(c => ClauseOrder(c.Clause)).ThenBy(c => c.Clause, StringComparer.Ordinal).ThenBy(c => c.Case, StringComparer.Ordinal))
        {
            var n = seen[c.Case] = seen.GetValueOrDefault(c.Case) + 1;
            yield return (n == 1 ? c.Case : $"{c.Case} #{n}", c);
        }
    }

    /// <summary>§1 … §9 in number order (a case of several clauses by its first), then named clauses, then cases without one.</summary>
    private static int ClauseOrder(string clause)
    {
        if (clause == "-")
            return int.MaxValue;
        var digits = clause.StartsWith('§') ? new string([.. clause.Skip(1).TakeWhile(char.IsAsciiDigit)]) : "";
        return digits.Length > 0 ? int.Parse(digits, CultureInfo.InvariantCulture) : int.MaxValue - 1;
    }

    /// <summary>What a clause covers; for a case of several clauses (<c>§2,§8</c>) each one's, joined.</summary>
    private static string Title(string clause) =>
        string.Join("; ", clause.Split(',').Select(c => Titles.GetValueOrDefault(c.Trim(), "")).Where(t => t.Length > 0));

    /// <summary>The two machines of a two-machine run, for the table's title.</summary>
    private static string Pair(ConformanceRun run) =>
        run.Machines is var (local, peer) ? $", two machines: this one, {local} ↔ the agent's, {peer}" : "";

    private static void Machine(Utf8JsonWriter w, string name, PeerMachine machine)
    {
        w.WriteStartObject(name);
        w.WriteNumber("cid", machine.Cid);
        w.WriteString("backend", machine.Backend);
        w.WriteString("kernel", machine.Kernel);
        if (machine.Address.Length > 0)
            w.WriteString("agent", machine.Address);
        w.WriteEndObject();
    }

    private static string Count(int n, string colour) => n == 0 ? "[grey]0[/]" : $"[{colour}]{n}[/]";

    private static string Mark(Outcome outcome) => outcome switch
    {
        Outcome.Passed => "[green]✓[/]",
        Outcome.Failed => "[red]✗[/]",
        _ => "[yellow]-[/]",
    };

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s";

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 160 ? line[..157] + "..." : line;
    }
}
