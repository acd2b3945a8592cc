using System.CommandLine;
using System.Runtime.InteropServices;
using NetMQ;

namespace Vmci.Cli.Shell;

/// <summary>
/// Runs the parsed command line: usage errors are reported one a line (exit code 2); SIGINT and SIGTERM cancel the
/// command's token, and a command that has not ended a second later is ended; every failure is one line on standard
/// error naming the input and the rule, mapped to an exit code (<see cref="ExitCodes"/>) — never a stack trace.
/// </summary>
internal static class CommandHost
{
    /// <summary>How long a command may take to end after SIGINT or SIGTERM before the process ends it.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (UsageErrors(parse) is { Count: > 0 } errors)
        {
            foreach (var line in errors)
                Console.Error.WriteLine(line);
            return ExitCodes.Usage;
        }
        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, stop));
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, stop));
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        var run = Task.Run(() => parse.InvokeAsync(configuration, stop.Token));
        try
        {
            // The command ends by itself, or within the grace after a signal; past it the process ends it.
            var stopped = stop.Token;
            if (!run.Wait(Timeout.Infinite, stopped))
                return ExitCodes.Failed;
            return run.Result;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return WaitAfterStop(run);
        }
        catch (AggregateException e)
        {
            return Report(e.InnerException ?? e);
        }
    }

    /// <summary>One line per parse error (a usage error, exit code 2): <c>vmci: --count '-3': must be 1 to 1000000 requests (usage: vmci ping --help)</c>.</summary>
    public static List<string> UsageErrors(ParseResult parse)
    {
        var help = string.Join(' ', ["vmci", .. CommandPath(parse), "--help"]);
        return [.. parse.Errors.Select(error => $"vmci: {error.Message.ReplaceLineEndings(" ")} (usage: {help})")];
    }

    /// <summary>The exit code and the one line for what a command threw.</summary>
    public static int Report(Exception e)
    {
        var (code, line) = Classify(e);
        Console.Error.WriteLine($"vmci: {line}");
        return code;
    }

    /// <summary>Usage (2) for malformed configuration, could not run (3) for an unusable fabric or backend, else failed (1).</summary>
    public static (int Code, string Line) Classify(Exception e) => e switch
    {
        VmciException { Operation: VmciOperation.Parse or VmciOperation.Configure } v => (ExitCodes.Usage, v.Message),
        VmciException { Operation: VmciOperation.OpenFabric or VmciOperation.JoinFabric } v => (ExitCodes.CouldNotRun, v.Message),
        VmciException { Operation: VmciOperation.ChangeFabric, Errno: Errno.EISDIR or Errno.ENOTDIR or Errno.ELOOP or Errno.EACCES } v =>
            (ExitCodes.CouldNotRun, v.Message), // a fabric file that cannot be a fabric file: nothing can run on it
        VmciException { Errno: Errno.EAFNOSUPPORT } v => (ExitCodes.CouldNotRun, v.Message),
        VmciException v => (ExitCodes.Failed, v.Message),
        NetMQException n => (ExitCodes.Failed, $"{n.GetType().Name}: {n.Message}"),
        UnauthorizedAccessException or IOException => (ExitCodes.CouldNotRun, VmciError.From(e, VmciOperation.OpenFabric, null).Message),
        OperationCanceledException => (ExitCodes.Failed, "stopped"),
        _ => (ExitCodes.CouldNotRun, $"internal error ({e.GetType().Name}): {e.Message}"),
    };

    private static int WaitAfterStop(Task<int> run)
    {
        try
        {
            if (run.Wait(StopGrace))
                return run.Result;
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException or VmciException { Errno: Errno.ECANCELED })
        {
            Console.Error.WriteLine($"vmci: stopped by a signal before the command finished ({e.InnerException.Message})");
            return ExitCodes.Failed;
        }
        catch (AggregateException e)
        {
            return Report(e.InnerException ?? e);
        }
        Console.Error.WriteLine($"vmci: stopped (the command did not end within {StopGrace.TotalSeconds:0} s of the signal)");
        return ExitCodes.Failed;
    }

    private static void Stop(PosixSignalContext context, CancellationTokenSource stop)
    {
        context.Cancel = true; // the command ends itself, then Main returns
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Main is already returning.
        }
    }

    private static Stack<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
            names.Push(result.Command.Name);
        return names;
    }
}
