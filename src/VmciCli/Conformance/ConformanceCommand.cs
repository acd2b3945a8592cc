using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using Spectre.Console;
using Vmci.Cli.Shell;
using Vmci.TestKit.Agent;
using Vmci.Transport;

namespace Vmci.Cli.Conformance;

/// <summary>
/// <c>vmci conformance [--backend sim|vsock] [--verbose] [--junit FILE] [--json FILE] [--peer vmci://CID:PORT]</c>: runs
/// the suite's cases for one backend (default: <c>$VMCI_BACKEND</c>, else sim) — with <c>--peer</c>, its two-machine cases
/// against <c>vmci agent</c> on another machine — with a progress bar, then prints one line per SPEC clause and
/// every failure in full (every case with <c>--verbose</c>). Exit code 0 when no case failed, 1 when some did, 2 for a
/// usage error, 3 when the suite could not run (not found, ran no case, stopped by a signal).
/// </summary>
internal static class ConformanceCommand
{
    public static Command Create()
    {
        var backend = new Option<string?>("--backend")
        {
            Description = $"sim (the built-in simulator) or vsock (real AF_VSOCK: a VMware or QEMU guest); default: ${VmciSettings.BackendVariable}, else sim",
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
        var peer = new Option<string?>("--peer") { Description = "run the two-machine cases against 'vmci agent' on another machine: vmci://CID:PORT" }.ConnectEndpoint();

        var command = new Command("conformance", "Run the zmq_vmci(7) conformance suite and print what conforms and what does not.")
        {
            backend, junit, json, suite, filter, peer,
        };
        command.SetAction(async (parse, ct) =>
        {
            // The flag wins; else the variable, validated with its name (a malformed one is a usage error, exit 2).
            var chosen = parse.GetValue(backend) is { } flag
                ? VmciSettings.ParseBackend(flag, "--backend")
                : VmciSettings.FromEnvironment().Backend;
            var target = parse.GetValue(peer);
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            (PeerMachine, PeerMachine)? machines = null;
            if (target is not null)
            {
                machines = await PeerCheck.DescribeAsync(chosen.ToString().ToLowerInvariant(), target, ct).ConfigureAwait(false);
                if (machines is null)
                    return ExitCodes.CouldNotRun;
                environment[PeerCheck.Variable] = target;
            }
            return await RunAsync(chosen, target is null ? null : PeerCheck.Leaf, environment, machines, parse.GetValue(Verbosity.Option),
                parse.GetValue(junit)?.FullName, parse.GetValue(json)?.FullName, parse.GetValue(suite)?.FullName, parse.GetValue(filter), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(VmciBackend backend, string? leaf, IReadOnlyDictionary<string, string> environment, (PeerMachine, PeerMachine)? machines,
        bool verbose, string? junit, string? json, string? suitePath, string? filter, CancellationToken ct)
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
        var info = Describe(backend);
        var run = new SuiteRun(suite, info.Backend, leaf ?? info.Backend, junit, filter, environment);
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var cases = new List<CaseResult>();
        AnsiConsole.MarkupLine($"Running the zmq_vmci(7) conformance suite: [bold]{Markup.Escape(info.Title)}[/]");
        try
        {
            if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected && !verbose)
                await RunWithProgressBarAsync(run, cases, ct).ConfigureAwait(false);
            else
                await RunWithLinesAsync(run, verbose, cases, ct).ConfigureAwait(false);
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

        var report = new ConformanceRun(info, started, clock.Elapsed, cases) { Machines = machines };
        if (report.Cases.Count == 0)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] the suite ran no case for {Markup.Escape(info.Backend)}{(filter is null ? "" : $" matching '{Markup.Escape(filter)}'")}");
            return ExitCodes.CouldNotRun;
        }
        AnsiConsole.WriteLine();
        if (verbose)
            AnsiConsole.Write(ConformanceReport.Cases(report));
        AnsiConsole.Write(ConformanceReport.Clauses(report));
        foreach (var line in ConformanceReport.Failures(report))
            AnsiConsole.MarkupLine(line);
        if (junit is not null)
        {
            JUnitReport.Annotate(junit, info);
            AnsiConsole.MarkupLine($"JUnit report: {Markup.Escape(junit)}");
        }
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, ConformanceReport.Json(report), ct).ConfigureAwait(false);
            AnsiConsole.MarkupLine($"JSON report: {Markup.Escape(json)}");
        }
        Console.WriteLine($"{report.Summary} in {report.Elapsed.TotalSeconds:0.0} s{(report.Skipped > 0 && !verbose ? " (--verbose lists the skipped cases and why)" : "")}");
        return report.Failed == 0 ? ExitCodes.Success : ExitCodes.Failed;
    }

    /// <summary>A terminal: one progress bar (cases done of the suite's count, failures so far).</summary>
    private static Task RunWithProgressBarAsync(SuiteRun run, List<CaseResult> cases, CancellationToken ct) =>
        AnsiConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask("discovering", maxValue: 1);
                bar.IsIndeterminate = true;
                await run.Suite.RunAsync(run.Backend, run.Leaf, run.Junit, run.Filter, run.Environment,
                    total =>
                    {
                        bar.MaxValue = Math.Max(total, 1);
                        bar.IsIndeterminate = false;
                    },
                    c =>
                    {
                        lock (cases)
                        {
                            cases.Add(c);
                            var failed = cases.Count(x => x.Outcome == Outcome.Failed);
                            bar.Description = failed == 0 ? $"{cases.Count} cases" : $"{cases.Count} cases, [red]{failed} failed[/]";
                            bar.Increment(1);
                        }
                    }, ct).ConfigureAwait(false);
            });

    /// <summary>Not a terminal (CI logs): a line for every failure as it happens, for every case with <c>--verbose</c>.</summary>
    private static async Task RunWithLinesAsync(SuiteRun run, bool verbose, List<CaseResult> cases, CancellationToken ct)
    {
        var total = 0;
        await run.Suite.RunAsync(run.Backend, run.Leaf, run.Junit, run.Filter, run.Environment,
            n =>
            {
                total = n;
                AnsiConsole.MarkupLine($"{n} cases to run");
            },
            c =>
            {
                lock (cases)
                {
                    cases.Add(c);
                    if (verbose || c.Outcome == Outcome.Failed)
                        AnsiConsole.MarkupLine(ConformanceReport.ProgressLine(cases.Count, c));
                    else if (total >= 10 && cases.Count % (total / 4) == 0)
                        AnsiConsole.MarkupLine($"[grey]{cases.Count}/{total} cases done[/]");
                }
            }, ct).ConfigureAwait(false);
    }

    /// <summary>Where this run happens: the host, its CID on the backend (when the backend can say), kernel, tool version.</summary>
    private static RunInfo Describe(VmciBackend backend)
    {
        var settings = VmciSettings.FromEnvironment() with { Backend = backend };
        uint? cid = null;
        if (backend == VmciBackend.Sim)
        {
            cid = settings.Simulator.Cid;
        }
        else
        {
            try
            {
                cid = settings.CreateNetwork().GetLocalCid();
            }
            catch (VmciException)
            {
                // No vsock device here: the cases will say so; the report names no CID.
            }
        }
        string kernel;
        try
        {
            kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            kernel = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        }
        var version = typeof(ConformanceCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        return new RunInfo(backend.ToString().ToLowerInvariant(), Environment.MachineName, cid, kernel, version);
    }
}

/// <summary>What to run: the suite, the backend, the leaf (<c>sim</c>, <c>vsock</c> or <c>peer</c>), the reports, the filter and extra environment.</summary>
internal sealed record SuiteRun(SuiteProcess Suite, string Backend, string Leaf, string? Junit, string? Filter, IReadOnlyDictionary<string, string> Environment);
