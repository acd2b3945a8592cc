using System.Net.Sockets;
using Vmci.Sim.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>
/// The accept thread of listeners and device gateways when the process is out of descriptors: accept(2) then fails
/// at once, again and again, so the loop must free one of its owner's or wait on its owner's closing token — never
/// try again at once. The loop runs here on a fake accept(2); the waits are infinite, so that only the closing token
/// can end one.
/// </summary>
public sealed class BlockingAcceptTests
{
    /// <summary>How many accepts a broken loop may make before the fake closes the owner, so that it cannot spin on.</summary>
    private const int SpinBound = 100;

    [Theory]
    [InlineData(SocketError.TooManyOpenSockets)]     // EMFILE, ENFILE
    [InlineData(SocketError.NoBufferSpaceAvailable)] // ENOBUFS
    public void OutOfDescriptors_OwnerFreesOneEachTime_TriesAgainAtOnce_ThenTakesTheConnection(SocketError error)
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var closing = new CancellationTokenSource();
        using var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accepts = 0;
        var freed = 0;
        Socket? taken = null;

        var thread = BlockingAccept.Start("test accept", () =>
        {
            switch (++accepts)
            {
                case <= 3:
                    throw new SocketException((int)error);
                case 4:
                    return connection;
                default:
                    closing.Cancel(); // the owner closes: its socket's accept fails
                    throw new ObjectDisposedException(nameof(Socket));
            }
        }, s => taken = s, () =>
        {
            freed++;
            return true; // it closed one of its own
        }, closing.Token, Timeout.InfiniteTimeSpan);

        Assert.True(thread.Join(watchdog.Remaining), "the accept loop waited although its owner freed a descriptor each time");
        Assert.Equal(3, freed);
        Assert.Same(connection, taken);
        Assert.Equal(5, accepts);
    }

    [Theory]
    [InlineData(SocketError.TooManyOpenSockets)]
    [InlineData(SocketError.NoBufferSpaceAvailable)]
    public void OutOfDescriptors_NothingToFree_WaitsOnTheClosingToken_InsteadOfSpinning(SocketError error)
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var closing = new CancellationTokenSource();
        var acceptsWhileOpen = 0;
        var acceptsAfterClose = 0;
        var freeAttempts = 0;
        Socket? taken = null;

        var thread = BlockingAccept.Start("test accept", () =>
        {
            if (closing.IsCancellationRequested)
            {
                Interlocked.Increment(ref acceptsAfterClose);
                throw new ObjectDisposedException(nameof(Socket));
            }
            if (Interlocked.Increment(ref acceptsWhileOpen) >= SpinBound)
                closing.Cancel();
            throw new SocketException((int)error);
        }, s => taken = s, () =>
        {
            Interlocked.Increment(ref freeAttempts);
            return false; // the owner holds nothing to free
        }, closing.Token, Timeout.InfiniteTimeSpan);

        // Once the owner found nothing to free, the loop must block (on the token) rather than accept again. Nothing
        // blocks between that answer and the wait: a thread seen blocked after it is in the wait.
        watchdog.Until(() => (Volatile.Read(ref freeAttempts) > 0 && (thread.ThreadState & ThreadState.WaitSleepJoin) != 0) || !thread.IsAlive,
            "the accept thread blocked after its owner found nothing to free (or ended)");
        Assert.Equal(1, Volatile.Read(ref acceptsWhileOpen));
        Assert.Equal(1, Volatile.Read(ref freeAttempts));

        closing.Cancel();

        Assert.True(thread.Join(watchdog.Remaining), "the accept loop did not end when its owner closed");
        Assert.Equal(1, acceptsWhileOpen);
        Assert.Equal(1, acceptsAfterClose); // woken by the token, it accepted again, found the owner closed and ended
        Assert.Equal(1, freeAttempts);
        Assert.Null(taken);
    }
}
