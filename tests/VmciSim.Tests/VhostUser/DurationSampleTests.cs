using Vmci.Sim.VhostUser.Internal;

namespace VmciSim.Tests.VhostUser;

/// <summary>The device's bounded sample of durations (the closing line's percentiles).</summary>
public sealed class DurationSampleTests
{
    [Fact]
    public void Empty_SaysNone()
    {
        var sample = new DurationSample();

        Assert.Equal("none", sample.Summary());
        Assert.Equal(TimeSpan.Zero, sample.Percentile(0.5));
    }

    [Fact]
    public void FewerThanCapacity_PercentilesAreExact()
    {
        var sample = new DurationSample();
        foreach (var us in new[] { 50, 10, 40, 20, 30 })
            sample.Add(TimeSpan.FromMicroseconds(us));

        Assert.Equal(TimeSpan.FromMicroseconds(30), sample.Percentile(0.5));
        Assert.Equal(TimeSpan.FromMicroseconds(50), sample.Percentile(0.9));
        Assert.Equal("median 30 µs, p90 50 µs, max 50 µs (5)", sample.Summary());
    }

    [Fact]
    public void ManyMoreThanCapacity_KeepsAUniformSample_CountAndMaxExact()
    {
        var sample = new DurationSample();
        const int n = DurationSample.Capacity * 10;
        for (var us = 1; us <= n; us++)
            sample.Add(TimeSpan.FromMicroseconds(us));

        Assert.Equal(n, sample.Count);
        Assert.Equal(TimeSpan.FromMicroseconds(n), sample.Max);
        // A uniform sample of 1..n: its median near n/2 (a sample that kept only the first or last durations is far off).
        Assert.InRange(sample.Percentile(0.5).TotalMicroseconds, n * 0.45, n * 0.55);
        Assert.InRange(sample.Percentile(0.9).TotalMicroseconds, n * 0.85, n * 0.95);
    }
}
