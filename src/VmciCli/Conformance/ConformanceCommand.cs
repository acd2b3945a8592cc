using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Vmci.Cli.Shell;

namespace Vmci.Cli.Conformance;

/// <summary>
/// <c>vmci conformance [--backend sim|vsock] [--junit FILE] [--json FILE]</c>: runs the suite and prints the report.
/// Exit code 0 when no case failed, 1 when some did, 2 for a usage error, 3 when the suite could not run (not found,
/// ran no case, stopped by a signal).
/// </summary>
internal static class ConformanceCommand
{

    public static Command Create()
    {
        var backend = new Option<string>("--backend")
        {
            Description = "sim (the built-in simulator) or vsock (real AF_VSOCK: a VMware or QEMU guest)",
            DefaultValueFactory = _ => "sim",
        }.OneOf("sim", "vsock");
        var junit = new Option<FileInfo?>("--junit") { Description = "also write a JUnit XML report to FILE" };
        var json = new Option<FileInfo?>("--json") { Description = "also write a JSON report to FILE" };
        foreach (var report in new[] { junit, json })
        {
            report.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<FileInfo?>() is { } file && !Directory.Exists(file.DirectoryName))
                    result.AddError(Validators.Rule(report.Name, file.ToString(), $"its directory {file.DirectoryName} does not exist"));
            });
        }
        var suite = new Option<FileInfo?>("--suite") { Description = $"the suite to run (default: beside this tool, or ${SuiteProcess.SuiteVariable})" };
        var filter = new Option<string?>("--filter") { Description = "run only test methods matching this xUnit -method pattern (wildcards at either end)" }.NotEmpty();

        var command = new Command("conformance", "Run the zmq_vmci(7) conformance suite and print what conforms and what does not.")
        {
            backend, junit, json, suite, filter,
        };
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(backend)!, parse.GetValue(junit)?.FullName, parse.GetValue(json)?.FullName,
            parse.GetValue(suite)?.FullName, parse.GetValue(filter), ct));
        return command;
    }

    private static async Task<int> RunAsync(string backend, string? junit, string? json, string? suitePath, string? filter, CancellationToken ct)
    {
        SuiteProcess suite;
        try
        {
            suite = SuiteProcess.Locate(suitePath);
        }
        catch (FileNotFoundException e)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.CouldNotRun;
        }

        if (Console.IsOutputRedirected)
            AnsiConsole.Profile.Width = 160;
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var cases = new List<CaseResult>();
        AnsiConsole.MarkupLine($"Running the zmq_vmci(7) conformance suite on [bold]{backend}[/]...");
        try
        {
            await suite.RunAsync(backend, junit, filter, c =>
            {
                lock (cases)
                {
                    cases.Add(c);
                    AnsiConsole.MarkupLine(ConformanceReport.ProgressLine(cases.Count, c));
                }
            }, ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.CouldNotRun;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] stopped by a signal after {cases.Count} case(s): the suite did not finish");
            return ExitCodes.CouldNotRun;
        }

        var run = new ConformanceRun(backend, started, clock.Elapsed, cases);
        AnsiConsole.WriteLine();
        AnsiConsole.Write(ConformanceReport.Table(run));
        if (json is not null)
            await File.WriteAllTextAsync(json, ConformanceReport.Json(run), ct).ConfigureAwait(false);
        if (junit is not null)
            AnsiConsole.MarkupLine($"JUnit report: {Markup.Escape(junit)}");
        if (json is not null)
            AnsiConsole.MarkupLine($"JSON report: {Markup.Escape(json)}");
        if (run.Cases.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]error:[/] the suite ran no case");
            return ExitCodes.CouldNotRun;
        }
        Console.WriteLine(run.Summary);
        return run.Failed == 0 ? ExitCodes.Success : ExitCodes.Failed;
    }
}
