namespace Vmci.Reliability;

/// <summary>The test executable: xUnit's console runner, or a child process (<see cref="Child"/>) started by a test.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        Child.IsChild ? Child.Run() : Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
}
