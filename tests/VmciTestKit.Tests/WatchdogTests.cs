using Vmci.TestKit;

namespace VmciTestKit.Tests;

/// <summary>The watchdog fails a hang with the kit's assertion, and lets the caller's cancellation through as such.</summary>
public sealed class WatchdogTests
{
    private static readonly CancellationToken TestToken = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Guard_TaskNeverCompletes_FailsNamingTheTimeout()
    {
        using var watchdog = Watchdog.Start(TimeSpan.FromMilliseconds(100), TestToken);

        var e = await Assert.ThrowsAsync<VmciAssertionException>(() => watchdog.Guard(new TaskCompletionSource<int>().Task));

        Assert.Contains("within 0.1 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guard_CallerCancels_ThrowsOperationCanceled()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        using var watchdog = Watchdog.Start(caller.Token);
        var pending = watchdog.Guard(new TaskCompletionSource().Task);

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public async Task Guard_TaskFails_ItsOwnExceptionGoesOn()
    {
        using var watchdog = Watchdog.Start(TestToken);

        await Assert.ThrowsAsync<TimeoutException>(() => watchdog.Guard(Task.FromException(new TimeoutException("its own"))));
    }

    [Fact]
    public void Until_ConditionNeverHolds_FailsNamingIt()
    {
        using var watchdog = Watchdog.Start(TestToken);

        var e = Assert.Throws<VmciAssertionException>(() => watchdog.Until(() => false, "the relay closed", TimeSpan.FromMilliseconds(50)));

        Assert.Contains("waiting until the relay closed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_ConditionHoldsLater_Returns()
    {
        using var watchdog = Watchdog.Start(TestToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await watchdog.UntilAsync(() => clock.ElapsedMilliseconds > 30, "30 ms passed");
    }

    [Fact]
    public void Start_NonPositiveTimeout_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Watchdog.Start(TimeSpan.Zero, TestToken));

    [Fact]
    public void DefaultTimeout_IsOneMinuteUnlessTheVariableSaysOtherwise() =>
        Assert.Equal(
            Environment.GetEnvironmentVariable(Watchdog.TimeoutVariable) is { Length: > 0 } seconds
                ? TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture))
                : TimeSpan.FromMinutes(1),
            Watchdog.DefaultTimeout);
}
