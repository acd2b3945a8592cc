using System.Diagnostics;
using Vmci.TestKit;

namespace VmciCli.Tests;

/// <summary>
/// The real <c>vmci</c> program in a child process, on a test's fabric: started with SIGINT and SIGTERM at their
/// defaults (<c>env --default-signal</c>: a shell that runs the tests in the background ignores SIGINT, and an ignored
/// signal would stay ignored in the child), its output read as it comes.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process _process;

    private ToolProcess(Process process) => _process = process;

    public Process Process => _process;

    public static ToolProcess Start(TestFabric fabric, IEnumerable<string> args, IEnumerable<(string Name, string Value)>? environment = null)
    {
        var start = new ProcessStartInfo("/usr/bin/env") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("--default-signal=INT,TERM");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmci.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["VMCI_SIM_FABRIC"] = fabric.Directory;
        start.Environment["VMCI_BACKEND"] = "sim";
        start.Environment.Remove("VMCI_SIM_CID");
        foreach (var (name, value) in environment ?? [])
            start.Environment[name] = value;
        return new ToolProcess(Process.Start(start)!);
    }

    /// <summary>Runs the tool to its end: exit code, standard output, standard error.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(
        TestFabric fabric, Watchdog watchdog, string[] args, string? stdin = null, params (string Name, string Value)[] environment)
    {
        using var tool = Start(fabric, args, environment);
        if (stdin is not null)
            await tool.Process.StandardInput.WriteAsync(stdin.AsMemory(), watchdog.Token);
        tool.Process.StandardInput.Close();
        var output = tool.Process.StandardOutput.ReadToEndAsync(watchdog.Token);
        var error = tool.Process.StandardError.ReadToEndAsync(watchdog.Token);
        await watchdog.Guard(tool.Process.WaitForExitAsync(watchdog.Token));
        return (tool.Process.ExitCode, await output, await error);
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, INT) to the tool.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("/bin/kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
