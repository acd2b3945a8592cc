using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>The test executable: a peer machine (<see cref="EchoPeer"/>) when started by a test, else xUnit's console runner.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        PeerProcess.RunIfRequested(args, EchoPeer.Programs) ?? Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
