using System.Runtime.Versioning;
using Vmci.Sim.VhostUser.Linux;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>The device thread's wake-up: set from any thread, reset by the sleeper, never left deaf by a race.</summary>
[SupportedOSPlatform("linux")]
public sealed class WakeEventTests
{
    [Fact]
    public void Set_WakesTheSleeper_ResetUnsetsIt_TheNextSetWakesAgain()
    {
        using var wake = WakeEvent.Create(out var errno) ?? throw new InvalidOperationException($"eventfd: errno {errno}");
        Assert.False(Readable(wake, 0));
        wake.Set();
        wake.Set(); // a second set while one is pending writes nothing more
        Assert.True(Readable(wake, 0));
        wake.Reset();
        Assert.False(Readable(wake, 0));
        wake.Set();
        Assert.True(Readable(wake, 0));
    }

    /// <summary>
    /// A setter racing the sleeper's reset (the device's fabric results against its poll loop): whatever interleaving
    /// happened, a set after the sleeper's last reset must still wake it. With the flag cleared before the drain, this
    /// race left the flag raised and the eventfd empty — later sets wrote nothing and the device slept through them.
    /// </summary>
    [Fact]
    public async Task Set_RacingTheSleepersReset_TheEventNeverGoesDeaf()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var wake = WakeEvent.Create(out var errno) ?? throw new InvalidOperationException($"eventfd: errno {errno}");
        var stop = 0;
        var setter = Task.Factory.StartNew(() =>
        {
            while (Volatile.Read(ref stop) == 0)
                wake.Set();
        }, TaskCreationOptions.LongRunning);
        var resets = 0;
        for (var i = 0; i < 200_000 && resets < 20_000; i++)
        {
            if (Readable(wake, 0))
            {
                wake.Reset();
                resets++;
            }
        }
        Volatile.Write(ref stop, 1);
        await watchdog.Guard(setter);
        if (Readable(wake, 0))
            wake.Reset();

        wake.Set();
        Assert.True(Readable(wake, 5000), $"after {resets} resets raced by a setter, a set no longer wakes the sleeper");
    }

    private static bool Readable(WakeEvent wake, int timeoutMilliseconds)
    {
        Span<Interop.PollFd> fds = [new Interop.PollFd { fd = wake.Descriptor, events = Interop.POLLIN }];
        var ready = NativeIo.Poll(fds, timeoutMilliseconds);
        Assert.True(ready >= 0, $"poll failed: errno {-ready}");
        return ready == 1 && (fds[0].revents & Interop.POLLIN) != 0;
    }
}
