using System.Globalization;

namespace Integration.Harness;

/// <summary>Small helpers every scenario uses.</summary>
public static class Scenario
{
    /// <summary>Bytes each client sends: larger than a socket buffer, so both sides loop.</summary>
    public const int PayloadSize = 300_000;

    /// <summary>The watchdog of every test: the test's token, cancelled after two minutes at most.</summary>
    /// <returns>The token source; dispose it.</returns>
    public static CancellationTokenSource Watchdog()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(2));
        return cts;
    }

    /// <summary>A number as a peer argument.</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its invariant text.</returns>
    public static string Arg(long value) => value.ToString(CultureInfo.InvariantCulture);
}
