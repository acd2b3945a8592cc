using System.Diagnostics;
using System.Globalization;

namespace Vmci.TestKit;

/// <summary>
/// The deadline of one test: a token cancelled when the caller's token is (pass your framework's test token, e.g.
/// xUnit's <c>TestContext.Current.CancellationToken</c>) or when the time is up, and the waits that honour it.
/// A watchdog only ends a hang: a test that passes never waits for it.
/// </summary>
/// <example>
/// <code>
/// using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
/// using var connection = await watchdog.Guard(network.ConnectAsync(target, null, watchdog.Token));
/// </code>
/// </example>
public sealed class Watchdog : IDisposable
{
    /// <summary>The environment variable that sets <see cref="DefaultTimeout"/>, in seconds (for slow machines).</summary>
    public const string TimeoutVariable = "VMCI_TEST_WATCHDOG";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);
    private readonly CancellationToken _outer;
    private readonly CancellationTokenSource _source;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private Watchdog(TimeSpan timeout, CancellationToken outer)
    {
        if (timeout <= TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a watchdog needs a positive timeout");
        _outer = outer;
        Timeout = timeout;
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _source.CancelAfter(timeout);
    }

    /// <summary>How long a test, a wait or a peer process may take before the kit fails it.</summary>
    /// <remarks>
    /// Defaults to 60 seconds, or to <see cref="TimeoutVariable"/> seconds when that variable is set. One minute is
    /// twice the longest single wait this project's suite had before the kit (30 s for a NetMQ receive) and leaves
    /// room for the QEMU guest, which runs the suite under TCG emulation many times slower than this machine; a
    /// passing test never waits for it, so the only price of a generous value is how long a hang takes to report.
    /// </remarks>
    public static TimeSpan DefaultTimeout { get; } = ReadDefaultTimeout();

    /// <summary>This watchdog's timeout.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Cancelled when the caller's token is cancelled or the timeout has passed: pass it to every operation.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The time left before the timeout (zero once it has passed).</summary>
    public TimeSpan Remaining =>
        Timeout == System.Threading.Timeout.InfiniteTimeSpan ? Timeout : Max(TimeSpan.Zero, Timeout - _clock.Elapsed);

    /// <summary>Starts a watchdog of <see cref="DefaultTimeout"/>.</summary>
    /// <param name="cancellationToken">The test's own token (the framework's cancellation, e.g. on a test-run timeout).</param>
    /// <returns>The running watchdog; dispose it at the end of the test.</returns>
    public static Watchdog Start(CancellationToken cancellationToken = default) => new(DefaultTimeout, cancellationToken);

    /// <summary>Starts a watchdog of <paramref name="timeout"/>, for a test that needs more (or less) than <see cref="DefaultTimeout"/>.</summary>
    /// <param name="timeout">The deadline; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none.</param>
    /// <param name="cancellationToken">The test's own token.</param>
    /// <returns>The running watchdog; dispose it at the end of the test.</returns>
    public static Watchdog Start(TimeSpan timeout, CancellationToken cancellationToken = default) => new(timeout, cancellationToken);

    /// <summary>Waits for <paramref name="task"/>; fails when the watchdog expires first.</summary>
    /// <param name="task">The operation.</param>
    /// <returns>A task that completes as <paramref name="task"/> does.</returns>
    /// <exception cref="VmciAssertionException">The timeout passed first.</exception>
    /// <exception cref="OperationCanceledException">The caller's token was cancelled first.</exception>
    public async Task Guard(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!task.IsCompleted)
        {
            throw Expired("the operation did not complete", e);
        }
    }

    /// <summary>Waits for <paramref name="task"/> and returns its result; fails when the watchdog expires first.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The operation.</param>
    /// <returns>The result of <paramref name="task"/>.</returns>
    /// <exception cref="VmciAssertionException">The timeout passed first.</exception>
    /// <exception cref="OperationCanceledException">The caller's token was cancelled first.</exception>
    public async Task<T> Guard<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!task.IsCompleted)
        {
            throw Expired("the operation did not complete", e);
        }
    }

    /// <summary>Waits for <paramref name="task"/>; fails when the watchdog expires first.</summary>
    /// <param name="task">The operation.</param>
    /// <returns>A task that completes as <paramref name="task"/> does.</returns>
    public Task Guard(ValueTask task) => Guard(task.AsTask());

    /// <summary>Waits for <paramref name="task"/> and returns its result; fails when the watchdog expires first.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The operation.</param>
    /// <returns>The result of <paramref name="task"/>.</returns>
    public Task<T> Guard<T>(ValueTask<T> task) => Guard(task.AsTask());

    /// <summary>
    /// Polls <paramref name="condition"/> every 10 ms until it holds, blocking the caller. For conditions that have no
    /// event to wait for (a counter, a file, a process state); where there is an event, wait for the event.
    /// </summary>
    /// <param name="condition">The condition.</param>
    /// <param name="what">The condition in words, for the failure message ("the relay closed").</param>
    /// <param name="timeout">At most this long (and never past the watchdog), or null for the rest of the watchdog.</param>
    /// <exception cref="VmciAssertionException">The condition did not hold in time.</exception>
    public void Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            CheckNotExpired(what, clock, timeout);
            Token.WaitHandle.WaitOne(PollInterval);
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds, without blocking a thread.</summary>
    /// <param name="condition">The condition.</param>
    /// <param name="what">The condition in words, for the failure message.</param>
    /// <param name="timeout">At most this long (and never past the watchdog), or null for the rest of the watchdog.</param>
    /// <returns>A task that completes once the condition holds.</returns>
    /// <exception cref="VmciAssertionException">The condition did not hold in time.</exception>
    public async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            CheckNotExpired(what, clock, timeout);
            try
            {
                await Task.Delay(PollInterval, Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                CheckNotExpired(what, clock, timeout);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    /// <summary>The failure for an expired watchdog, or the caller's cancellation when that is what happened.</summary>
    internal Exception Expired(string what, Exception? inner = null)
    {
        _outer.ThrowIfCancellationRequested();
        return new VmciAssertionException(
            string.Create(CultureInfo.InvariantCulture, $"watchdog: {what} within {Timeout.TotalSeconds:0.###} s"), inner);
    }

    private void CheckNotExpired(string what, Stopwatch clock, TimeSpan? timeout)
    {
        if (Token.IsCancellationRequested)
            throw Expired("timed out waiting until " + what);
        if (timeout is { } limit && clock.Elapsed > limit)
            throw new VmciAssertionException(string.Create(CultureInfo.InvariantCulture, $"timed out after {limit.TotalSeconds:0.###} s waiting until {what}"));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan ReadDefaultTimeout()
    {
        var text = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (string.IsNullOrEmpty(text))
            return TimeSpan.FromSeconds(60);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw new InvalidOperationException($"{TimeoutVariable}='{text}' is not a positive number of seconds");
    }
}
