namespace Conformance.Support;

/// <summary>The watchdog of every async test: the test's own cancellation token plus a deadline.</summary>
public sealed class Watchdog : IDisposable
{
    /// <summary>The default deadline of one test.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _source;

    private Watchdog(TimeSpan timeout)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _source.CancelAfter(timeout);
    }

    /// <summary>Cancelled when the test is cancelled or the deadline passes.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Starts a watchdog for the current test.</summary>
    public static Watchdog Start(TimeSpan? timeout = null) => new(timeout ?? DefaultTimeout);

    /// <summary>Waits for <paramref name="task"/>, failing the test when the deadline passes first.</summary>
    public Task<T> Guard<T>(Task<T> task) => task.WaitAsync(Token);

    /// <summary>Waits for <paramref name="task"/>, failing the test when the deadline passes first.</summary>
    public Task Guard(Task task) => task.WaitAsync(Token);

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}
