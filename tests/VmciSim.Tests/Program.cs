namespace VmciSim.Tests;

/// <summary>The test executable: xUnit's console runner, or a peer machine (<see cref="PeerProcess"/>) in a child process.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        PeerProcess.IsPeer ? PeerProcess.Run() : Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
