using System.Diagnostics;
using Vmci.TestKit;

namespace VmciCli.Tests;

/// <summary>
/// The real <c>vmci</c> program: its exit code for each kind of outcome (0 success, 1 failed, 2 usage error, 3 could not
/// run), every failure one line on standard error and never a stack trace, and SIGINT/SIGTERM ending a command that
/// waits (issue #16: <c>ping -W -1</c> never returned and ignored both signals).
/// </summary>
/// <remarks>Each test starts the real tool, a .NET start-up: twice the kit's default watchdog.</remarks>
public sealed class ExitCodeTests() : FabricTestBase(new TestFabric(), Watchdog.Start(2 * Watchdog.DefaultTimeout, TestContext.Current.CancellationToken))
{
    [Theory]
    [InlineData("ping vmci://2:5555 -W -1")]
    [InlineData("ping vmci://2:5555 -i -5")]
    [InlineData("ping vmci://2:5555 -c -3")]
    [InlineData("ping vmci://2:5555 -s 2147483647")]
    [InlineData("ping tcp://a:b")]
    [InlineData("echo --bind vmci://*:* --max-size 0")]
    [InlineData("ping vmci://2:5555 --frob")]
    public async Task Run_UsageError_ExitsTwoWithOneLine(string args)
    {
        var (code, output, error) = await ToolProcess.RunAsync(Fabric, Watchdog, args.Split(' '));

        Assert.Equal(2, code);
        Assert.Equal("", output);
        OneLine(error);
    }

    [Fact]
    public async Task Run_FabricIsAFile_ExitsThreeWithOneLine()
    {
        var file = Path.Combine(Fabric.Directory, "not-a-fabric");
        await File.WriteAllTextAsync(file, "x", Watchdog.Token);

        var (code, _, error) = await ToolProcess.RunAsync(Fabric, Watchdog, ["ping", "vmci://2:5555", "-c", "1", "-W", "200", "--fabric", file]);

        Assert.Equal(3, code);
        Assert.Contains(file, OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MachineDirectoryIsALink_ExitsThreeNamingIt()
    {
        var elsewhere = Directory.CreateTempSubdirectory("vmci-cli-elsewhere-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(Fabric.Directory, "2"), elsewhere);

            var (code, _, error) = await ToolProcess.RunAsync(Fabric, Watchdog, ["echo", "--bind", "vmci://*:*", "--cid", "2"]);

            Assert.Equal(3, code);
            Assert.Contains("symbolic link", OneLine(error), StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task Run_OperationFails_ExitsOne()
    {
        var (code, output, _) = await ToolProcess.RunAsync(Fabric, Watchdog, ["ping", "vmci://2:4000", "-c", "1", "-W", "200"]);

        Assert.Equal(1, code);
        Assert.Contains("100% loss", output, StringComparison.Ordinal);
    }

    /// <summary>A ping that would wait an hour for its answer, and an echo that would serve forever, end on the signal.</summary>
    [Theory]
    [InlineData("TERM", "ping vmci://2:4000 -c 1000000 -i 0 -W 3600000")]
    [InlineData("INT", "ping vmci://2:4000 -c 1000000 -i 0 -W 3600000")]
    [InlineData("TERM", "echo --bind vmci://*:*")]
    [InlineData("INT", "echo --bind vmci://*:*")]
    public async Task Signal_WhileWaiting_EndsTheCommand(string signal, string args)
    {
        using var tool = ToolProcess.Start(Fabric, args.Split(' '));
        var first = await Watchdog.Guard(tool.Process.StandardOutput.ReadLineAsync(Watchdog.Token));
        Assert.NotNull(first); // started: it printed its header and now waits
        var error = tool.Process.StandardError.ReadToEndAsync(Watchdog.Token);

        var clock = Stopwatch.StartNew();
        tool.Signal(signal);
        await Watchdog.Guard(tool.Process.WaitForExitAsync(Watchdog.Token));
        clock.Stop();

        TestContext.Current.TestOutputHelper?.WriteLine($"SIG{signal} -> exit {tool.Process.ExitCode} after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(tool.Process.ExitCode is 0 or 1, $"exit code {tool.Process.ExitCode}: {await error}");
        Assert.DoesNotContain("   at ", await error, StringComparison.Ordinal);
    }

    private static string OneLine(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("vmci: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        return line;
    }
}
