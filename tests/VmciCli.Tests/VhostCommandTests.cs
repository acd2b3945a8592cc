using System.Diagnostics;

namespace VmciCli.Tests;

/// <summary><c>vmci vhost</c> as the real program: its exit codes (0 stopped, 2 usage, 3 could not start) and its stop on SIGTERM.</summary>
public sealed class VhostCommandTests : IDisposable
{
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("vmci-vhost-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Socket => Path.Combine(_dir, "vhost.sock");

    private string Fabric => Path.Combine(_dir, "fabric");

    [Fact]
    public async Task MissingSocketOption_ExitsTwo()
    {
        var (code, _, error) = await RunAsync(["vhost", "--cid", "3", "--fabric", Fabric]);

        Assert.Equal(2, code);
        Assert.Contains("--socket", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostCid_ExitsTwo_NamingTheRule()
    {
        var (code, _, error) = await RunAsync(["vhost", "--cid", "2", "--fabric", Fabric, "--socket", Socket]);

        Assert.Equal(2, code);
        Assert.Contains("CID 2 cannot be a guest's", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n')); // one line, no stack trace
    }

    [Fact]
    public async Task Sigterm_StopsTheDevice_ExitsZero_AndASecondDeviceForTheCidCannotStart()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "vhost-user devices run on Linux only");
        using var device = Start(["vhost", "--cid", "3", "--fabric", Fabric, "--socket", Socket]);
        var ready = await device.StandardError.ReadLineAsync(Ct).AsTask().WaitAsync(Watchdog, Ct);
        Assert.StartsWith("vhost: listening on ", ready, StringComparison.Ordinal);

        var (code, _, error) = await RunAsync(["vhost", "--cid", "3", "--fabric", Fabric, "--socket", Socket + "2"]);
        Assert.Equal(3, code);
        Assert.Contains("CID 3 is already served by a vhost-user device", error, StringComparison.Ordinal);

        using (var kill = Process.Start("kill", ["-TERM", device.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync(Ct).WaitAsync(Watchdog, Ct);
        await device.WaitForExitAsync(Ct).WaitAsync(Watchdog, Ct);

        Assert.Equal(0, device.ExitCode);
        Assert.False(File.Exists(Socket));
        Assert.False(File.Exists(Path.Combine(Fabric, "3", "gateway")));
    }

    private static Process Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmci.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        using var p = Start(args);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync(Ct);
        var error = p.StandardError.ReadToEndAsync(Ct);
        await p.WaitForExitAsync(Ct).WaitAsync(Watchdog, Ct);
        return (p.ExitCode, await output, await error);
    }
}
