using Conformance.TwoMachine;

namespace Conformance;

/// <summary>The suite's executable: xUnit's console runner, or a two-machine agent (<see cref="AgentMode"/>).</summary>
public static class Program
{
    /// <summary>Runs the suite, or the agent.</summary>
    public static int Main(string[] args) =>
        AgentMode.IsRequested ? AgentMode.Run() : Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
