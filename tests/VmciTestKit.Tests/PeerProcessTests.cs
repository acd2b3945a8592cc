using Vmci.TestKit;

namespace VmciTestKit.Tests;

/// <summary>The launcher: this executable again as a peer, its lines, its stop, and its failures with their reasons.</summary>
public sealed class PeerProcessTests
{
    private static readonly CancellationToken TestToken = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_Program_GetsArgumentsAndEnvironment_StopClosesItsInput()
    {
        using var peer = PeerProcess.Start("greet", ["from", "the test"], new Dictionary<string, string?> { ["GREETING"] = "hi" });

        Assert.Equal("hello from the test", await peer.ReadLineAsync(TestToken));
        Assert.Equal("GREETING=hi", await peer.ReadLineAsync(TestToken));
        Assert.Equal("PEER=", await peer.ReadLineAsync(TestToken));
        Assert.Equal(0, await peer.StopAsync(TestToken));
        Assert.Equal(["hello from the test", "GREETING=hi", "PEER=", "bye"], peer.Output);
    }

    [Fact]
    public async Task ReadLine_PeerFailsFirst_FailsWithExitCodeAndStandardError()
    {
        using var peer = PeerProcess.Start("fail");

        var e = await Assert.ThrowsAsync<VmciAssertionException>(() => peer.ReadLineAsync(TestToken));

        Assert.Contains("peer 'fail' ended its output (exit code 3)", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot join the fabric: EACCES", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadLine_PeerThrows_ExitCodeOneAndTheExceptionOnStandardError()
    {
        using var peer = PeerProcess.Start("throw");

        Assert.Equal(1, await peer.WaitForExitAsync(TestToken));
        Assert.Contains("a bug in the peer", peer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownProgram_ExitsTwoNamingTheKnownOnes()
    {
        using var peer = PeerProcess.Start("nonesuch");

        Assert.Equal(2, await peer.WaitForExitAsync(TestToken));
        Assert.Contains("known: greet, fail, throw", peer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadLine_NoLineInTime_FailsNamingTheTimeout()
    {
        // No process starts and prints within a millisecond.
        using var peer = PeerProcess.Start("greet", timeout: TimeSpan.FromMilliseconds(1));

        var e = await Assert.ThrowsAsync<VmciAssertionException>(() => peer.ReadLineAsync(TestToken));

        Assert.StartsWith("watchdog: no line from the peer within 0.001 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_RunningPeer_KillsIt()
    {
        var peer = PeerProcess.Start("greet");
        await peer.ReadLineAsync(TestToken);
        var id = peer.Id;

        peer.Dispose();

        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(id));
    }
}
