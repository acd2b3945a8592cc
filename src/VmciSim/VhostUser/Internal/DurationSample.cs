using System.Diagnostics;
using System.Globalization;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// Durations seen by the device thread, kept as a bounded uniform sample (reservoir sampling: every duration of the
/// session has the same chance to be kept, whatever their number) for percentiles in the closing line. Device thread only.
/// </summary>
internal sealed class DurationSample
{
    /// <summary>How many durations are kept at most.</summary>
    public const int Capacity = 8192;

    private readonly long[] _ticks = new long[Capacity];
    private readonly Random _random = new(1);
    private int _kept;

    /// <summary>How many durations were added in all.</summary>
    public long Count { get; private set; }

    /// <summary>The longest duration added.</summary>
    public TimeSpan Max { get; private set; }

    /// <summary>Adds the time from <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) to now.</summary>
    public void AddSince(long startTimestamp) => Add(Stopwatch.GetElapsedTime(startTimestamp));

    public void Add(TimeSpan duration)
    {
        Count++;
        if (duration > Max)
            Max = duration;
        if (_kept < Capacity)
        {
            _ticks[_kept++] = duration.Ticks;
            return;
        }
        var slot = _random.NextInt64(Count);
        if (slot < Capacity)
            _ticks[slot] = duration.Ticks;
    }

    /// <summary>The <paramref name="fraction"/> quantile (0.5: the median) of the kept durations; zero when none.</summary>
    public TimeSpan Percentile(double fraction)
    {
        if (_kept == 0)
            return TimeSpan.Zero;
        var sorted = _ticks.AsSpan(0, _kept).ToArray();
        Array.Sort(sorted);
        return TimeSpan.FromTicks(sorted[(int)Math.Min(_kept - 1, Math.Floor(fraction * _kept))]);
    }

    /// <summary>"median M µs, p90 P µs, max X µs (N)", or "none".</summary>
    public string Summary() => Count == 0
        ? "none"
        : string.Create(CultureInfo.InvariantCulture,
            $"median {Micros(Percentile(0.5))} µs, p90 {Micros(Percentile(0.9))} µs, max {Micros(Max)} µs ({Count})");

    private static long Micros(TimeSpan t) => (long)t.TotalMicroseconds;
}
