using System.CommandLine;
using Spectre.Console;
using Vmci.Sim;

namespace Vmci.Cli.Sim;

/// <summary><c>vmci sim status</c>: the simulated machines (CIDs) of a fabric, their listeners and faults; <c>vmci sim fault ...</c>.</summary>
internal static class SimCommands
{
    public static Command Create()
    {
        var fabric = new Option<string?>("--fabric") { Description = "the fabric directory (default: $VMCI_SIM_FABRIC, else a per-user directory)", Recursive = true };
        var status = new Command("status", "List the fabric's topology, simulated CIDs, listeners and active faults.");
        status.SetAction(parse =>
        {
            SimFabric opened;
            try
            {
                opened = SimFabric.Open(parse.GetValue(fabric));
            }
            catch (VmciException e)
            {
                Console.Error.WriteLine($"vmci: {e.Message}");
                return 1;
            }
            AnsiConsole.MarkupLine($"fabric [bold]{Markup.Escape(opened.Directory)}[/], topology [bold]{opened.Topology.ToString().ToLowerInvariant()}[/]");
            var table = new Table().Border(TableBorder.Rounded).AddColumn("CID").AddColumn("Listener").AddColumn("PID").AddColumn("State");
            foreach (var machine in opened.Snapshot().OrderBy(m => m.Cid))
            {
                if (machine.Listeners.Count == 0)
                    table.AddRow(machine.Cid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-", "-", "-");
                foreach (var l in machine.Listeners.OrderBy(l => l.Address.Port))
                    table.AddRow(machine.Cid.ToString(System.Globalization.CultureInfo.InvariantCulture), l.Address.ToString(),
                        l.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), l.IsStale ? "[yellow]stale[/]" : "[green]listening[/]");
            }
            AnsiConsole.Write(table);
            FaultCommands.Print(opened.Faults);
            return 0;
        });
        var value = new Argument<string?>("topology") { Description = "open or vmware (omit to print the current one)", Arity = ArgumentArity.ZeroOrOne };
        value.AcceptOnlyFromAmong("open", "vmware");
        var topology = new Command("topology", "Print or set the fabric's topology: open, or vmware (guests reach the host and themselves only).") { value };
        topology.SetAction(parse =>
        {
            try
            {
                var opened = SimFabric.Open(parse.GetValue(fabric));
                if (parse.GetValue(value) is { } wanted)
                    opened.Topology = wanted == "vmware" ? SimTopology.Vmware : SimTopology.Open;
                Console.WriteLine(opened.Topology.ToString().ToLowerInvariant());
                return 0;
            }
            catch (VmciException e)
            {
                Console.Error.WriteLine($"vmci: {e.Message}");
                return 1;
            }
        });
        return new Command("sim", "Inspect the simulator's fabric and inject faults.") { fabric, status, topology, FaultCommands.Create(fabric) };
    }
}
