using System.CommandLine;
using Vmci.Cli.Agent;
using Vmci.Cli.Conformance;
using Vmci.Cli.Forward;
using Vmci.Cli.Shell;
using Vmci.Cli.Sim;
using Vmci.Cli.Smoke;

namespace Vmci.Cli;

/// <summary>The <c>vmci</c> command: one subcommand per job; exit codes 0 success, 1 failed, 2 usage error, 3 could not run.</summary>
internal static class Program
{
    private static int Main(string[] args) => CommandHost.Run(CreateRoot(), args);

    /// <summary>Every command of the tool.</summary>
    internal static RootCommand CreateRoot() =>
        new("vmci: ZeroMQ vmci:// conformance, simulator and VM smoke tools (exit codes: 0 success, 1 failures found or "
            + "the operation failed, 2 usage error, 3 could not run)")
        {
            ConformanceCommand.Create(),
            SmokeCommands.Cid(),
            SmokeCommands.Echo(),
            PingCommand.Create(),
            CatCommand.Create(),
            ForwardCommand.Create(),
            SimCommands.Create(),
            VhostCommand.Create(),
            AgentCommand.Create(),
            Verbosity.Option,
        };
}
