namespace Vmci.Transport.Internal;

/// <summary>
/// libzmq's reconnect schedule, taken from the NetMQ socket's own options at connect time: wait the interval
/// plus a random jitter below the interval; with a maximum above the interval the wait doubles after every
/// failure up to the maximum; an interval of -1 (any negative) means one attempt and no retry.
/// </summary>
/// <param name="Interval">ReconnectInterval (ZMQ_RECONNECT_IVL).</param>
/// <param name="Maximum">ReconnectIntervalMax (ZMQ_RECONNECT_IVL_MAX); zero or less: no backoff.</param>
internal sealed record ReconnectPolicy(TimeSpan Interval, TimeSpan Maximum)
{
    /// <summary>False when the interval is negative: no retry.</summary>
    public bool Retries => Interval >= TimeSpan.Zero;

    /// <summary>The wait before attempt <paramref name="failures"/> + 1, after <paramref name="failures"/> failed attempts (≥ 1).</summary>
    public TimeSpan Delay(int failures)
    {
        var interval = Interval;
        if (Maximum > Interval)
        {
            for (var i = 1; i < failures && interval < Maximum; i++)
                interval += interval;
            if (interval > Maximum)
                interval = Maximum;
        }
        var jitterMs = (int)Math.Min(Interval.TotalMilliseconds, int.MaxValue);
        return interval + TimeSpan.FromMilliseconds(jitterMs > 0 ? Random.Shared.Next(jitterMs) : 0);
    }
}
