using System.Diagnostics;

namespace Vmci.Sim.Internal;

/// <summary>Waits that must not end early.</summary>
internal static class Delay
{
    /// <summary>
    /// Waits no less than <paramref name="delay"/> by the monotonic clock. A timer alone may fire a few milliseconds
    /// early (measured here: <c>Task.Delay(40)</c> as short as 36.4 ms); a latency fault is a floor, as on a wire.
    /// </summary>
    public static async Task AtLeastAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        for (var left = delay; left > TimeSpan.Zero; left = delay - Stopwatch.GetElapsedTime(start))
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
    }
}
