using System.CommandLine;
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace VmciBench;

/// <summary>
/// Entry point, parsed with System.CommandLine like the <c>vmci</c> tool (every value checked against its range, one
/// line per error, exit code 2): <c>e2e</c> — NetMQ tcp vs vmci direct vs vmci relay vs raw UDS, plus the scale checks;
/// <c>sim</c> — the simulator vs raw Unix domain sockets; <c>micro</c> — the BenchmarkDotNet micro-benchmarks.
/// </summary>
public static class Program
{
    private static readonly string[] PathNames = ["tcp", "direct", "relay", "uds"];

    public static async Task<int> Main(string[] args)
    {
        // The scale part opens 1,000 NetMQ sockets per transport mode, one pass right after the other; NetMQ reaps closed
        // sockets in the background, so its default limit of 1,024 sockets (fixed when its context starts) could be met
        // by sockets still being reaped.
        NetMQ.NetMQConfig.MaxSockets = 8192;
        var root = new RootCommand("vmci-harness benchmarks: ratios measured in one run, paths alternating round by round.")
        {
            E2eCommand(), SimCommand(), MicroCommand(), CompareCommand(),
        };
        if (Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Profile.Width = 200; // a CI log: the wide tables stay one line a row
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"VmciBench: {error.Message} (usage: VmciBench --help)");
            return 2;
        }
        return await parse.InvokeAsync();
    }

    private static Command E2eCommand()
    {
        var quick = new Option<bool>("--quick") { Description = "fewer rounds and smaller counts (about 30 s)" };
        var guard = new Option<bool>("--guard") { Description = "CI guard: --quick, and exit 1 when a figure is past twice its target's margin" };
        var rounds = new Option<int?>("--rounds") { Description = "alternating rounds per row (default 7 quick, 11 full)" };
        rounds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } n && n is < 1 or > 101)
                r.AddError($"--rounds '{n}': must be 1 to 101");
        });
        var sizes = new Option<int[]>("--sizes") { Description = "message sizes in bytes, comma-separated (default 16,1024,65536,1048576)", CustomParser = ParseSizes };
        var paths = new Option<string[]>("--paths") { Description = "a subset of tcp,direct,relay,uds, comma-separated; the first is the ratios' baseline", CustomParser = ParsePaths };
        var noScale = new Option<bool>("--no-scale") { Description = "skip the scale checks (connections, memory, fds)" };
        var backend = new Option<string>("--backend") { Description = "sim, or vsock (the kernel; only inside a guest with VMCI_BACKEND=vsock)", DefaultValueFactory = _ => "sim" };
        backend.AcceptOnlyFromAmong("sim", "vsock");
        var json = new Option<FileInfo?>("--json") { Description = "also write every figure, ratio, target check and scale figure to FILE" };
        var plot = new Option<FileInfo?>("--plot") { Description = "also write the throughput plot to FILE.svg" };
        var command = new Command("e2e", "PUSH/PULL throughput and CPU per message, REQ/REP round trips: NetMQ tcp vs vmci direct vs vmci relay vs raw UDS.")
        {
            quick, guard, rounds, sizes, paths, noScale, backend, json, plot,
        };
        command.SetAction(parse => E2eBench.Run(new E2eOptions(
            Quick: parse.GetValue(quick) || parse.GetValue(guard),
            Guard: parse.GetValue(guard),
            Rounds: parse.GetValue(rounds),
            Sizes: parse.GetValue(sizes) is { Length: > 0 } s ? s : Targets.Sizes,
            Paths: parse.GetValue(paths) is { Length: > 0 } p ? p : PathNames,
            Scale: !parse.GetValue(noScale),
            Backend: parse.GetValue(backend)!,
            Json: parse.GetValue(json)?.FullName,
            Plot: parse.GetValue(plot)?.FullName)));
        return command;
    }

    private static Command SimCommand()
    {
        var quick = new Option<bool>("--quick") { Description = "fewer connects and bytes per round" };
        var command = new Command("sim", "The simulator vs raw Unix domain sockets: connect+accept rate and stream throughput.") { quick };
        command.SetAction((parse, _) => SimBench.RunAsync(parse.GetValue(quick)));
        return command;
    }

    private static Command CompareCommand()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "two or more files written by e2e --json", Arity = ArgumentArity.OneOrMore };
        var command = new Command("compare", "Do repeated e2e runs agree? Each ratio to tcp per run, and whether every run is within ±15 % of their mean.") { files };
        command.SetAction(parse => Compare.Run(parse.GetValue(files)!));
        return command;
    }

    private static Command MicroCommand()
    {
        var command = new Command("micro", "The BenchmarkDotNet micro-benchmarks (short in-process job); other arguments go to BenchmarkDotNet, e.g. --filter '*'.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(parse =>
        {
            var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. parse.UnmatchedTokens], config);
            return 0;
        });
        return command;
    }

    private static int[] ParseSizes(System.CommandLine.Parsing.ArgumentResult result)
    {
        var sizes = new List<int>();
        foreach (var token in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries)))
        {
            if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is < 1 or > 64 << 20)
            {
                result.AddError($"--sizes '{token}': each size must be a whole number of bytes from 1 to {64 << 20} (64 MiB)");
                return [];
            }
            sizes.Add(size);
        }
        return [.. sizes];
    }

    private static string[] ParsePaths(System.CommandLine.Parsing.ArgumentResult result)
    {
        var chosen = result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries)).ToArray();
        if (chosen.FirstOrDefault(p => !PathNames.Contains(p)) is { } unknown)
        {
            result.AddError($"--paths '{unknown}': each path must be one of {string.Join(", ", PathNames)}");
            return [];
        }
        if (chosen.Distinct().Count() != chosen.Length)
        {
            result.AddError($"--paths '{string.Join(",", chosen)}': a path may be named once");
            return [];
        }
        return chosen;
    }
}

/// <summary>What <c>e2e</c> was asked for, parsed and checked.</summary>
internal sealed record E2eOptions(bool Quick, bool Guard, int? Rounds, int[] Sizes, string[] Paths, bool Scale, string Backend, string? Json, string? Plot);
