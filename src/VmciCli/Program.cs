using System.CommandLine;
using Vmci.Cli.Agent;
using Vmci.Cli.Conformance;
using Vmci.Cli.Sim;
using Vmci.Cli.Smoke;

namespace Vmci.Cli;

/// <summary>The <c>vmci</c> command: one subcommand per job.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("vmci: ZeroMQ vmci:// conformance, simulator and VM smoke tools")
        {
            ConformanceCommand.Create(),
            SmokeCommands.Cid(),
            SmokeCommands.Echo(),
            SmokeCommands.Ping(),
            CatCommand.Create(),
            SimCommands.Create(),
            AgentCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
