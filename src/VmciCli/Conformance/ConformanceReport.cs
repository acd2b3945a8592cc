using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Vmci.TestKit.Agent;

namespace Vmci.Cli.Conformance;

/// <summary>The report formats of <c>vmci conformance</c>: the console table, the one-line progress and the JSON file.</summary>
internal static class ConformanceReport
{
    /// <summary>One line as a case finishes (live progress).</summary>
    public static string ProgressLine(int index, CaseResult c) =>
        $"[grey]{index,4}[/] {Mark(c.Outcome)} {Markup.Escape(c.Case)} [grey]({Seconds(c.Duration)})[/]";

    /// <summary>The table: case, SPEC clause, result and time, sorted by clause then case, failures' messages below.</summary>
    public static Table Table(ConformanceRun run)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"zmq_vmci(7) conformance on [bold]{Markup.Escape(run.Backend)}[/]{Markup.Escape(Pair(run))}")
            .AddColumn("Case").AddColumn("SPEC").AddColumn("Result").AddColumn(new TableColumn("Time").RightAligned());
        foreach (var c in Ordered(run))
        {
            var result = c.Outcome switch
            {
                Outcome.Passed => "[green]pass[/]",
                Outcome.Failed => "[red]FAIL[/]",
                _ => "[yellow]skip[/]",
            };
            var name = Markup.Escape(c.Case);
            if (c.Message is { Length: > 0 } message && c.Outcome != Outcome.Passed)
                name += $"\n[grey]{Markup.Escape(FirstLine(message))}[/]";
            table.AddRow(name, Markup.Escape(c.Clause), result, Seconds(c.Duration));
        }
        return table;
    }

    /// <summary>The JSON report: the run and every case, for machines.</summary>
    public static string Json(ConformanceRun run)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("backend", run.Backend);
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
            foreach (var c in Ordered(run))
            {
                w.WriteStartObject();
                w.WriteString("name", c.Case);
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

    private static IEnumerable<CaseResult> Ordered(ConformanceRun run) =>
        run.Cases.OrderBy(c => c.Clause, StringComparer.Ordinal).ThenBy(c => c.Case, StringComparer.Ordinal);

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
