using System.CommandLine;
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
            VhostCommand.Create(),
        };
        var parse = root.Parse(args);
        // vhost follows the 0/1/2/3 convention of long-running tools: a usage error is 2 (the parser's default is 1).
        if (parse.Errors.Count > 0 && parse.CommandResult.Command.Name == "vhost")
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"vmci: {error.Message}");
            return VhostCommand.UsageError;
        }
        return parse.Invoke();
    }
}
