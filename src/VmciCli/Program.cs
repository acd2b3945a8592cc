using System.CommandLine;
using Vmci.Cli.Conformance;

namespace Vmci.Cli;

/// <summary>The <c>vmci</c> command: one subcommand per job.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("vmci: ZeroMQ vmci:// conformance, simulator and VM smoke tools")
        {
            ConformanceCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
