using System.CommandLine;
using System.Globalization;
using Vmci.Sim;

namespace Vmci.Cli.Sim;

/// <summary>
/// <c>vmci sim fault add KIND --cid N [...]</c>, <c>clear</c>, <c>list</c>, and the shorthands <c>pause</c>, <c>resume</c>,
/// <c>reset</c>, <c>partition</c>, <c>heal</c>: faults stored in the fabric's <c>faults.json</c>, applied by every process.
/// </summary>
internal static class FaultCommands
{
    public static Command Create(Option<string?> fabric)
    {
        var kind = new Argument<string>("kind") { Description = "latency, bandwidth, reset, partition, pause, refuse or cid-change" };
        var cid = new Option<uint>("--cid") { Description = "the machine the fault applies to", Required = true };
        var peer = new Option<uint?>("--peer") { Description = "only its connections with this CID (default: every peer)" };
        var port = new Option<uint?>("--port") { Description = "only connections to this port of --cid (one service; default: all)" };
        var ms = new Option<int>("--ms") { Description = "latency: added one-way milliseconds" };
        var jitter = new Option<int>("--jitter") { Description = "latency: ± milliseconds of uniform jitter" };
        var rate = new Option<long>("--bytes-per-second") { Description = "bandwidth: cap per connection and direction" };
        var to = new Option<uint>("--to") { Description = "cid-change: the new CID" };
        var add = new Command("add", "Add a fault (every process sharing the fabric applies it within 100 ms).") { kind, cid, peer, port, ms, jitter, rate, to };
        add.SetAction(parse => Run(parse.GetValue(fabric), faults =>
        {
            var name = parse.GetValue(kind)!;
            if (!SimFault.TryParseKind(name, out var k))
                throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, name, "unknown kind; use latency, bandwidth, reset, partition, pause, refuse or cid-change");
            var added = faults.Add(new SimFault(k, parse.GetValue(cid))
            {
                Peer = parse.GetValue(peer),
                Port = parse.GetValue(port),
                LatencyMilliseconds = parse.GetValue(ms),
                JitterMilliseconds = parse.GetValue(jitter),
                BytesPerSecond = parse.GetValue(rate),
                ToCid = parse.GetValue(to),
            });
            Console.WriteLine($"added {added}");
        }));

        var clearCid = new Option<uint?>("--cid") { Description = "only this CID's faults (default: all)" };
        var clearKind = new Option<string?>("--kind") { Description = "only faults of this kind" };
        var clear = new Command("clear", "Remove faults (all, or of one CID and/or kind); clearing a cid-change moves the machine back.") { clearCid, clearKind };
        clear.SetAction(parse => Run(parse.GetValue(fabric), faults =>
        {
            SimFaultKind? only = null;
            if (parse.GetValue(clearKind) is { } name)
            {
                if (!SimFault.TryParseKind(name, out var k))
                    throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, name, "unknown kind");
                only = k;
            }
            Console.WriteLine($"cleared {faults.Clear(parse.GetValue(clearCid), only)} fault(s)");
        }));

        var list = new Command("list", "List the active faults.");
        list.SetAction(parse => Run(parse.GetValue(fabric), faults => Print(faults)));

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

    private static Command Shorthand(string name, string description, Option<string?> fabric, Func<SimFaults, uint, string> action)
    {
        var cid = new Option<uint>("--cid") { Description = "the machine", Required = true };
        var command = new Command(name, description) { cid };
        command.SetAction(parse => Run(parse.GetValue(fabric), faults => Console.WriteLine(action(faults, parse.GetValue(cid)))));
        return command;
    }

    private static int Run(string? directory, Action<SimFaults> body)
    {
        try
        {
            body(SimFabric.Open(directory).Faults);
            return 0;
        }
        catch (VmciException e)
        {
            Console.Error.WriteLine($"vmci: {e.Message}");
            return 1;
        }
    }
}
