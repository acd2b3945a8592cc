using Vmci.TestKit;

namespace VmciTestKit.Tests;

/// <summary>The test executable: one of <see cref="KitPeers"/> when started by a <see cref="PeerProcess"/> test, else xUnit's console runner.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        PeerProcess.RunIfRequested(args, KitPeers.Programs) ?? Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}

/// <summary>Peer programs with known behaviour, to test the launcher.</summary>
internal static class KitPeers
{
    public static readonly IReadOnlyDictionary<string, Func<string[], Task<int>>> Programs = new Dictionary<string, Func<string[], Task<int>>>
    {
        // Prints its arguments and one environment variable, then serves until stopped.
        ["greet"] = async args =>
        {
            Console.WriteLine("hello " + string.Join(' ', args));
            Console.WriteLine("GREETING=" + Environment.GetEnvironmentVariable("GREETING"));
            Console.WriteLine("PEER=" + Environment.GetEnvironmentVariable(PeerProcess.ProgramVariable));
            Console.Out.Flush();
            await PeerProcess.StopRequested;
            Console.WriteLine("bye");
            return 0;
        },
        // Fails at once, saying why on standard error.
        ["fail"] = _ =>
        {
            Console.Error.WriteLine("cannot join the fabric: EACCES");
            return Task.FromResult(3);
        },
        // Throws: the dispatcher reports it on standard error and exits 1.
        ["throw"] = _ => throw new InvalidOperationException("a bug in the peer"),
    };
}
