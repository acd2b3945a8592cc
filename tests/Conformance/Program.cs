using Conformance.TwoMachine;
using Vmci.TestKit;

namespace Conformance;

/// <summary>The suite's executable: xUnit's console runner, or a two-machine agent (<see cref="AgentMode"/>).</summary>
public static class Program
{
    /// <summary>Runs the suite, or the agent.</summary>
    public static int Main(string[] args) =>
        PeerProcess.RunIfRequested(args, AgentMode.Programs) ?? Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
