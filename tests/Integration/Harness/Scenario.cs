using System.Globalization;
using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>Small helpers every scenario uses.</summary>
public static class Scenario
{
    /// <summary>Bytes each client sends: larger than a socket buffer, so both sides loop.</summary>
    public const int PayloadSize = 300_000;

    /// <summary>
    /// How long one scenario may take: twice the kit's default, because a scenario starts up to eight peers (each a .NET
    /// start-up, or a container) and moves hundreds of messages through all of them.
    /// </summary>
    public static TimeSpan Timeout => 2 * Watchdog.DefaultTimeout;

    /// <summary>The watchdog of every scenario: the test's token, cancelled after <see cref="Timeout"/>.</summary>
    /// <returns>The watchdog; dispose it.</returns>
    public static Watchdog StartWatchdog() => Watchdog.Start(Timeout, TestContext.Current.CancellationToken);

    /// <summary>A number as a peer argument.</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its invariant text.</returns>
    public static string Arg(long value) => value.ToString(CultureInfo.InvariantCulture);
}
