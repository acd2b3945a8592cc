using System.Diagnostics;
using Vmci.Sim.Internal;

namespace VmciSim.Tests;

/// <summary>The simulator's floor for a wait (latency faults; a slow fake guest): never shorter than asked.</summary>
public sealed class DelayTests
{
    [Fact]
    public async Task AtLeast_NeverEndsBeforeItsDelay()
    {
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 120; i++)
        {
            var delay = TimeSpan.FromMilliseconds(0.5 + (i % 12)); // starts at every phase of a coarse timer tick
            var clock = Stopwatch.StartNew();
            await Delay.AtLeastAsync(delay, ct);
            Assert.True(clock.Elapsed >= delay, $"round {i}: {clock.Elapsed.TotalMilliseconds:F3} ms for {delay.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task AtLeast_Cancelled_Throws()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var wait = Delay.AtLeastAsync(TimeSpan.FromHours(1), cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }
}
