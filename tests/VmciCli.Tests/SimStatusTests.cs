using System.Diagnostics;

namespace VmciCli.Tests;

/// <summary><c>vmci sim status</c> shows the transport mode in use, and VMCI_TRANSPORT_MODE selects it.</summary>
public sealed class SimStatusTests : IDisposable
{
    private readonly string _fabric = Directory.CreateTempSubdirectory("vmci-cli-status-").FullName;

    public void Dispose() => Directory.Delete(_fabric, recursive: true);

    [Theory]
    [InlineData(null, "transport: direct (default)")]
    [InlineData("direct", "transport: direct (VMCI_TRANSPORT_MODE=direct)")]
    [InlineData("relay", "transport: relay (VMCI_TRANSPORT_MODE=relay)")]
    public async Task SimStatus_PrintsTheTransportMode(string? mode, string expected)
    {
        var (code, output, error) = await RunAsync(mode, ["sim", "status", "--fabric", _fabric]);
        Assert.True(code == 0, error);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimStatus_MalformedMode_SaysWhichVariable()
    {
        var (_, output, _) = await RunAsync("fast", ["sim", "status", "--fabric", _fabric]);
        Assert.Contains("VMCI_TRANSPORT_MODE=fast", output, StringComparison.Ordinal);
        Assert.Contains("EINVAL", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string? mode, string[] args)
    {
        var ct = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmci.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["VMCI_BACKEND"] = "sim";
        if (mode is null)
            start.Environment.Remove("VMCI_TRANSPORT_MODE");
        else
            start.Environment["VMCI_TRANSPORT_MODE"] = mode;
        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        return (process.ExitCode, await output, await error);
    }
}
