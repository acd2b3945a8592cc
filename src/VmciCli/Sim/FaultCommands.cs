using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Vmci.Cli.Shell;
using Vmci.Sim;

namespace Vmci.Cli.Sim;

/// <summary>
/// <c>vmci sim fault add KIND --cid N [...]</c>, <c>clear</c>, <c>list</c>, and the shorthands <c>pause</c>, <c>resume</c>,
/// <c>reset</c>, <c>refuse</c>, <c>heal</c>: faults stored in the fabric's <c>faults.json</c>, applied by every process.
/// </summary>
internal static class FaultCommands
{
    /// <summary>The largest latency or jitter: one hour.</summary>
    public const int MaxMilliseconds = 3_600_000;

    private static readonly string[] Kinds = [.. Enum.GetValues<SimFaultKind>().Select(SimFault.KindName)];

    public static Command Create(Option<string?> fabric)
    {
        var kind = new Argument<string>("kind") { Description = string.Join(", ", Kinds) }.OneOf(Kinds);
        var cid = new Option<uint>("--cid") { Description = "the machine the fault applies to (2 to 4294967294)", Required = true }.MachineCid();
        var peer = new Option<uint?>("--peer") { Description = "only its connections with this CID (default: every peer)" }.MachineCid();
        var ms = new Option<int>("--ms") { Description = $"latency: added one-way milliseconds, 0 to {MaxMilliseconds}" }.InRange(0, MaxMilliseconds, "milliseconds");
        var jitter = new Option<int>("--jitter") { Description = "latency: ± milliseconds of uniform jitter, 0 to --ms" }.InRange(0, MaxMilliseconds, "milliseconds");
        var rate = new Option<long>("--bytes-per-second") { Description = "bandwidth: cap per connection and direction, at least 1" }.InRange(1, long.MaxValue, "bytes per second");
        var to = new Option<uint>("--to") { Description = "cid-change: the new CID" }.MachineCid();
        var add = new Command("add", "Add a fault (every process sharing the fabric applies it within 100 ms).") { kind, cid, peer, ms, jitter, rate, to };
        add.Validators.Add(result => CheckAdd(result, kind, cid, peer, ms, jitter, rate, to));
        add.SetAction(parse => Run(parse.GetValue(fabric), faults =>
        {
            var k = SimFault.TryParseKind(parse.GetValue(kind)!, out var parsed) ? parsed : throw new InvalidOperationException("the parser let an unknown kind through");
            var added = faults.Add(new SimFault(k, parse.GetValue(cid))
            {
                Peer = parse.GetValue(peer),
                LatencyMilliseconds = parse.GetValue(ms),
                JitterMilliseconds = parse.GetValue(jitter),
                BytesPerSecond = parse.GetValue(rate),
                ToCid = parse.GetValue(to),
            });
            Console.WriteLine($"added {added}");
        }));

        var clearCid = new Option<uint?>("--cid") { Description = "only this CID's faults (default: all)" }.MachineCid();
        var clearKind = new Option<string?>("--kind") { Description = "only faults of this kind" }.OneOf(Kinds);
        var clear = new Command("clear", "Remove faults (all, or of one CID and/or kind); clearing a cid-change moves the machine back.") { clearCid, clearKind };
        clear.SetAction(parse => Run(parse.GetValue(fabric), faults =>
        {
            SimFaultKind? only = parse.GetValue(clearKind) is { } name && SimFault.TryParseKind(name, out var k) ? k : null;
            Console.WriteLine($"cleared {faults.Clear(parse.GetValue(clearCid), only)} fault(s)");
        }));

        var list = new Command("list", "List the active faults.");
        list.SetAction(parse => Run(parse.GetValue(fabric), Print));

        return new Command("fault", "Inject faults into the simulator (docs/reliability.md).")
        {
            add, clear, list,
            Shorthand("pause", "Suspend a VM: its connections stall, nothing is lost.", fabric, (f, c) => f.Pause(c).ToString()),
            Shorthand("resume", "Resume a paused VM.", fabric, (f, c) => $"resumed ({f.Resume(c)} fault(s) cleared)"),
            Shorthand("reset", "Reset the live connections of a CID.", fabric, (f, c) => f.Reset(c).ToString()),
            Shorthand("refuse", "Refuse new connections to a CID (ECONNRESET).", fabric, (f, c) => f.Add(new SimFault(SimFaultKind.Refuse, c)).ToString()),
            Shorthand("heal", "Heal every partition of a CID.", fabric, (f, c) => $"healed ({f.Heal(c)} fault(s) cleared)"),
        };
    }

    /// <summary>Prints the active faults, one a line.</summary>
    public static void Print(SimFaults faults)
    {
        var all = faults.List();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"faults (version {faults.Version}): {(all.Count == 0 ? "none" : all.Count)}"));
        foreach (var f in all)
            Console.WriteLine($"  {f}  (added {f.AddedUtc:u})");
    }

    /// <summary>Which options a kind takes, and the rules between them (jitter ≤ latency, a new CID for cid-change).</summary>
    private static void CheckAdd(CommandResult result, Argument<string> kind, Option<uint> cid, Option<uint?> peer,
        Option<int> ms, Option<int> jitter, Option<long> rate, Option<uint> to)
    {
        if (result.GetValue(kind) is not { } name || !SimFault.TryParseKind(name, out var k))
            return;
        bool Given(Option o) => result.GetResult(o) is { Implicit: false };
        void NotFor(Option o, string rule)
        {
            if (Given(o))
                result.AddError($"{o.Name}: {rule}, not to {name}");
        }
        if (k != SimFaultKind.Latency)
        {
            NotFor(ms, "applies to latency only");
            NotFor(jitter, "applies to latency only");
        }
        if (k != SimFaultKind.Bandwidth)
            NotFor(rate, "applies to bandwidth only");
        if (k != SimFaultKind.CidChange)
            NotFor(to, "applies to cid-change only");
        if (k is SimFaultKind.Pause or SimFaultKind.CidChange)
            NotFor(peer, "applies to faults between two machines (latency, bandwidth, reset, partition, refuse)");
        if (k == SimFaultKind.Latency && result.GetValue(jitter) > result.GetValue(ms))
            result.AddError(Validators.Rule("--jitter", result.GetValue(jitter).ToString(CultureInfo.InvariantCulture), $"must be at most --ms ({result.GetValue(ms)})"));
        if (k == SimFaultKind.Latency && !Given(ms))
            result.AddError("latency needs --ms (the added one-way milliseconds)");
        if (k == SimFaultKind.Bandwidth && !Given(rate))
            result.AddError("bandwidth needs --bytes-per-second");
        if (k == SimFaultKind.CidChange && !Given(to))
            result.AddError("cid-change needs --to (the new CID)");
        else if (k == SimFaultKind.CidChange && result.GetValue(to) == result.GetValue(cid))
            result.AddError(Validators.Rule("--to", result.GetValue(to).ToString(CultureInfo.InvariantCulture), "must differ from --cid"));
        if (Given(peer) && result.GetValue(peer) == result.GetValue(cid))
            result.AddError(Validators.Rule("--peer", result.GetValue(peer)?.ToString(CultureInfo.InvariantCulture) ?? "", "must differ from --cid"));
    }

    private static Command Shorthand(string name, string description, Option<string?> fabric, Func<SimFaults, uint, string> action)
    {
        var cid = new Option<uint>("--cid") { Description = "the machine (2 to 4294967294)", Required = true }.MachineCid();
        var command = new Command(name, description) { cid };
        command.SetAction(parse => Run(parse.GetValue(fabric), faults => Console.WriteLine(action(faults, parse.GetValue(cid)))));
        return command;
    }

    private static int Run(string? directory, Action<SimFaults> body)
    {
        body(SimFabric.Open(directory).Faults);
        return ExitCodes.Success;
    }
}
