using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vmci.Cli.Shell;
using Vmci.Sim;
using Vmci.Transport;

namespace Vmci.Cli.Sim;

/// <summary>
/// <c>vmci sim status</c>: the simulated machines (CIDs) of a fabric, their listeners and faults (stale entries pruned
/// first); <c>vmci sim prune</c>; <c>vmci sim topology [open|vmware]</c>; <c>vmci sim fault ...</c>.
/// </summary>
internal static class SimCommands
{
    public static Command Create()
    {
        var fabric = new Option<string?>("--fabric") { Description = "the fabric directory (default: $VMCI_SIM_FABRIC, else a per-user directory)", Recursive = true }
            .NotEmpty();
        var status = new Command("status", "List the fabric's topology, simulated CIDs, listeners and active faults (stale entries are pruned first).");
        status.SetAction(parse =>
        {
            var opened = SimFabric.Open(parse.GetValue(fabric));
            var pruned = opened.Prune();
            AnsiConsole.MarkupLine($"fabric [bold]{Markup.Escape(opened.Directory)}[/], topology [bold]{opened.Topology.ToString().ToLowerInvariant()}[/]");
            AnsiConsole.MarkupLine(Markup.Escape(TransportLine()));
            if (pruned.Count > 0)
                AnsiConsole.MarkupLine($"pruned {pruned.Count} stale entr{(pruned.Count == 1 ? "y" : "ies")} left by processes that are gone");
            var table = new Table().Border(TableBorder.Rounded).AddColumn("CID").AddColumn("Listener").AddColumn("PID").AddColumn("State");
            foreach (var machine in opened.Snapshot().OrderBy(m => m.Cid))
            {
                var cid = machine.Cid.ToString(CultureInfo.InvariantCulture);
                if (machine.Listeners.Count == 0)
                    table.AddRow(cid, "-", "-", "-");
                foreach (var l in machine.Listeners.OrderBy(l => l.Address.Port))
                    table.AddRow(cid, l.Address.ToString(), l.ProcessId.ToString(CultureInfo.InvariantCulture), l.IsStale ? "[yellow]stale[/]" : "[green]listening[/]");
            }
            AnsiConsole.Write(table);
            FaultCommands.Print(opened.Faults);
            return ExitCodes.Success;
        });
        var value = new Argument<string?>("topology") { Description = "open or vmware (omit to print the current one)", Arity = ArgumentArity.ZeroOrOne };
        value.AcceptOnlyFromAmong("open", "vmware");
        var topology = new Command("topology", "Print or set the fabric's topology: open, or vmware (guests reach the host and themselves only).") { value };
        topology.SetAction(parse =>
        {
            var opened = SimFabric.Open(parse.GetValue(fabric));
            if (parse.GetValue(value) is { } wanted)
                opened.Topology = wanted == "vmware" ? SimTopology.Vmware : SimTopology.Open;
            Console.WriteLine(opened.Topology.ToString().ToLowerInvariant());
            return ExitCodes.Success;
        });
        var prune = new Command("prune", "Remove the files of listeners whose process is gone (socket files nobody answers on, their .bound files, old temporaries).");
        prune.SetAction(parse =>
        {
            var opened = SimFabric.Open(parse.GetValue(fabric));
            var removed = opened.Prune();
            foreach (var entry in removed)
                Console.WriteLine($"removed {entry}");
            Console.WriteLine($"pruned {removed.Count} stale entr{(removed.Count == 1 ? "y" : "ies")} in {opened.Directory}");
            return ExitCodes.Success;
        });
        return new Command("sim", "Inspect the simulator's fabric and inject faults.") { fabric, status, prune, topology, FaultCommands.Create(fabric) };
    }

    /// <summary>How this process's vmci endpoints reach NetMQ: <c>transport: direct</c>, or relay and why.</summary>
    internal static string TransportLine()
    {
        VmciTransportMode requested;
        try
        {
            requested = VmciTransport.RequestedMode;
        }
        catch (VmciException e)
        {
            return $"transport: unknown ({e.Message})";
        }
        var source = string.IsNullOrEmpty(Environment.GetEnvironmentVariable(VmciSettings.TransportModeVariable))
            ? "default" : $"{VmciSettings.TransportModeVariable}={Environment.GetEnvironmentVariable(VmciSettings.TransportModeVariable)}";
        return requested == VmciTransportMode.Relay || VmciTransport.IsDirectModeAvailable
            ? $"transport: {requested.ToString().ToLowerInvariant()} ({source})"
            : $"transport: relay (direct mode unavailable: {VmciTransport.DirectModeUnavailableReason})";
    }
}
