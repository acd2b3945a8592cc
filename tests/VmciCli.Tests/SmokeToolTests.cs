using System.Diagnostics;
using Vmci.Cli.Smoke;

namespace VmciCli.Tests;

/// <summary>The deploy smoke tools, run as the real <c>vmci</c> program on a private simulator fabric.</summary>
public sealed class SmokeToolTests : IDisposable
{
    private readonly string _fabric = Directory.CreateTempSubdirectory("vmci-cli-").FullName;

    public void Dispose() => Directory.Delete(_fabric, recursive: true);

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

        Assert.Equal(1, code);
        Assert.Contains("VMCI_SIM_CID", error, StringComparison.Ordinal);
        Assert.Contains("EINVAL", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EchoAndPing_OnTheSimulator_EveryRequestAnswered()
    {
        var ct = TestContext.Current.CancellationToken;
        using var echo = Start(["echo", "--bind", "vmci://*:*", "--count", "3", "--cid", "2"]);
        var first = await echo.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.StartsWith("echo: listening on vmci://*:", first, StringComparison.Ordinal);
        var port = first!.Split(" ")[3].Split(":")[^1];

        var (code, output, error) = await RunAsync(["ping", $"vmci://2:{port}", "-c", "3", "-i", "1", "-W", "15000", "--cid", "3"]);

        Assert.True(code == 0, $"ping exited {code}:\n{output}\n{error}");
        Assert.Contains("3 sent, 3 received, 0% loss", output, StringComparison.Ordinal);
        Assert.Contains("rtt min/avg/max/p99 = ", output, StringComparison.Ordinal);
        await echo.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
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
        var ct = TestContext.Current.CancellationToken;
        using var listener = Start(["cat", "--listen", "vmci://*:*", "--cid", "2"]);
        var first = await listener.StandardError.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        var port = first!.Split(':')[^1];
        await listener.StandardInput.WriteAsync("to the client\n".AsMemory(), ct);
        listener.StandardInput.Close();

        var (code, output, _) = await RunAsync(["cat", $"vmci://2:{port}", "--cid", "3"], stdin: "to the listener\n");

        Assert.Equal(0, code);
        Assert.Equal("to the client\n", output);
        Assert.Equal("to the listener\n", await listener.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
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
        start.Environment["VMCI_SIM_FABRIC"] = _fabric;
        start.Environment["VMCI_BACKEND"] = "sim";
        start.Environment.Remove("VMCI_SIM_CID");
        foreach (var (name, value) in env)
            start.Environment[name] = value;
        return Process.Start(start)!;
    }

    private Task<(int Code, string Output, string Error)> RunAsync(string[] args, (string Name, string Value) env) => RunAsync(args, env, null);

    private async Task<(int Code, string Output, string Error)> RunAsync(string[] args, (string Name, string Value)? env = null, string? stdin = null)
    {
        var ct = TestContext.Current.CancellationToken;
        using var p = Start(args, env is { } e ? [e] : []);
        if (stdin is not null)
            await p.StandardInput.WriteAsync(stdin.AsMemory(), ct);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var error = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        return (p.ExitCode, await output, await error);
    }
}
