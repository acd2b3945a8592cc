using System.Diagnostics;
using Vmci.Cli.Smoke;
using Vmci.TestKit;

namespace VmciCli.Tests;

/// <summary>The deploy smoke tools, run as the real <c>vmci</c> program on a private simulator fabric.</summary>
/// <remarks>Each test starts the real tool once or twice, and each start is a .NET start-up: twice the kit's default watchdog.</remarks>
public sealed class SmokeToolTests() : FabricTestBase(new TestFabric(), Watchdog.Start(2 * Watchdog.DefaultTimeout, TestContext.Current.CancellationToken))
{
    [Fact]
    public async Task Cid_WithSimCid_PrintsIt()
    {
        var (code, output, _) = await RunAsync(["cid", "--cid", "7"]);

        Assert.Equal(0, code);
        Assert.Equal("7", output.Trim());
    }

    [Fact]
    public async Task Cid_MalformedEnvironment_FailsWithTheVariableNamed()
    {
        var (code, _, error) = await RunAsync(["cid"], ("VMCI_SIM_CID", "three"));

        Assert.Equal(2, code); // a malformed variable is a usage error, like a malformed argument
        Assert.Contains("VMCI_SIM_CID", error, StringComparison.Ordinal);
        Assert.Contains("EINVAL", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EchoAndPing_OnTheSimulator_EveryRequestAnswered()
    {
        using var echo = Start(["echo", "--bind", "vmci://*:*", "--count", "3", "--cid", "2"]);
        var first = await Watchdog.Guard(echo.StandardOutput.ReadLineAsync(Watchdog.Token));
        Assert.StartsWith("echo: listening on vmci://*:", first, StringComparison.Ordinal);
        var port = first!.Split(" ")[3].Split(":")[^1];

        var (code, output, error) = await RunAsync(["ping", $"vmci://2:{port}", "-c", "3", "-i", "1", "-W", "15000", "--cid", "3"]);

        Assert.True(code == 0, $"ping exited {code}:\n{output}\n{error}");
        Assert.Contains("3 sent, 3 received, 0% loss", output, StringComparison.Ordinal);
        Assert.Contains("rtt min/avg/max/p99 = ", output, StringComparison.Ordinal);
        await Watchdog.Guard(echo.WaitForExitAsync(Watchdog.Token));
        Assert.Equal(0, echo.ExitCode);
    }

    [Fact]
    public async Task Ping_NobodyListening_ReportsLossAndExitsOne()
    {
        var (code, output, _) = await RunAsync(["ping", "vmci://2:4000", "-c", "1", "-W", "200"]);

        Assert.Equal(1, code);
        Assert.Contains("1 sent, 0 received, 100% loss", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cat_ListenAndConnect_CopiesBothWays()
    {
        using var listener = Start(["cat", "--listen", "vmci://*:*", "--cid", "2"]);
        var first = await Watchdog.Guard(listener.StandardError.ReadLineAsync(Watchdog.Token));
        var port = first!.Split(':')[^1];
        await listener.StandardInput.WriteAsync("to the client\n".AsMemory(), Watchdog.Token);
        listener.StandardInput.Close();

        var (code, output, _) = await RunAsync(["cat", $"vmci://2:{port}", "--cid", "3"], stdin: "to the listener\n");

        Assert.Equal(0, code);
        Assert.Equal("to the client\n", output);
        Assert.Equal("to the listener\n", await Watchdog.Guard(listener.StandardOutput.ReadToEndAsync(Watchdog.Token)));
    }

    [Fact]
    public void PingStatistics_FormatsLikePing()
    {
        Assert.Equal("4 sent, 3 received, 25% loss\nrtt min/avg/max/p99 = 1.000/2.000/3.000/3.000 ms", PingStatistics.Format(4, [2.0, 1.0, 3.0]));
        Assert.Equal("2 sent, 0 received, 100% loss", PingStatistics.Format(2, []));
    }

    private Process Start(string[] args, params (string Name, string Value)[] env)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmci.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["VMCI_SIM_FABRIC"] = Fabric.Directory;
        start.Environment["VMCI_BACKEND"] = "sim";
        start.Environment.Remove("VMCI_SIM_CID");
        foreach (var (name, value) in env)
            start.Environment[name] = value;
        return Process.Start(start)!;
    }

    private Task<(int Code, string Output, string Error)> RunAsync(string[] args, (string Name, string Value) env) => RunAsync(args, env, null);

    private async Task<(int Code, string Output, string Error)> RunAsync(string[] args, (string Name, string Value)? env = null, string? stdin = null)
    {
        using var p = Start(args, env is { } e ? [e] : []);
        if (stdin is not null)
            await p.StandardInput.WriteAsync(stdin.AsMemory(), Watchdog.Token);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync(Watchdog.Token);
        var error = p.StandardError.ReadToEndAsync(Watchdog.Token);
        await Watchdog.Guard(p.WaitForExitAsync(Watchdog.Token));
        return (p.ExitCode, await output, await error);
    }
}
