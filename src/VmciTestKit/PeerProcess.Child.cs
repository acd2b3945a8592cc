namespace Vmci.TestKit;

/// <summary>The child side of <see cref="PeerProcess"/>: what a peer program runs in.</summary>
public sealed partial class PeerProcess
{
    private static readonly Lazy<Task> InputClosed = new(() => Task.Run(() => Console.In.ReadToEnd()));

    /// <summary>
    /// Completes when the parent asks the peer to stop (<see cref="StopAsync"/> closes the peer's standard input, and so
    /// does the parent's death). A peer program that serves until stopped awaits it.
    /// </summary>
    public static Task StopRequested => InputClosed.Value;

    /// <summary>
    /// In a child started by <see cref="Start"/>: runs the peer program that <see cref="ProgramVariable"/> names with
    /// <paramref name="args"/> and returns its exit code. In any other process: returns null at once, and the caller runs
    /// the tests. An exception that escapes the program is written to standard error; the exit code is then 1.
    /// </summary>
    /// <param name="args">The command-line arguments, passed to the program.</param>
    /// <param name="programs">The peer programs of this executable, by name.</param>
    /// <returns>The program's exit code; 2 for an unknown program name; null when this process is not a peer.</returns>
    public static int? RunIfRequested(string[] args, IReadOnlyDictionary<string, Func<string[], Task<int>>> programs)
    {
        ArgumentNullException.ThrowIfNull(programs);
        var name = Environment.GetEnvironmentVariable(ProgramVariable);
        if (string.IsNullOrEmpty(name))
            return null;
        // The peer's own children (if any) are not peers unless it says so.
        Environment.SetEnvironmentVariable(ProgramVariable, null);
        try
        {
            if (!programs.TryGetValue(name, out var program))
            {
                Console.Error.WriteLine($"{ProgramVariable}={name}: no such peer program; known: {string.Join(", ", programs.Keys)}");
                return 2;
            }
            return program(args).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"peer {name}: {e}");
            return 1;
        }
        finally
        {
            Console.Out.Flush();
            Console.Error.Flush();
        }
    }
}
