using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>The test executable: a peer machine (<see cref="SimPeers"/>) when started by a multi-process test, else xUnit's console runner.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        PeerProcess.RunIfRequested(args, SimPeers.Programs) ?? Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
