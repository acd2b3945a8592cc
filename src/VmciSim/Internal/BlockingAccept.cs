using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// The accept loop of a listening Unix socket, on a thread of its own in a blocking accept(2): a new connection wakes
/// it directly, one hop fewer than an async accept (epoll thread, then a pool thread), which is most of a connect's
/// cost. <see cref="SimListener"/> and a vhost-user device's <see cref="VhostUser.Internal.Gateway"/> both run one.
/// It is shared so that both survive running out of descriptors alike: accept(2) then fails at once (EMFILE, ENFILE,
/// ENOBUFS) for as long as the process is out, and trying again at once spins a core. The loop asks its owner to free
/// a descriptor of its own and, when the owner has none to free, waits briefly on the owner's closing token for other
/// code to close some.
/// </summary>
internal static class BlockingAccept
{
    /// <summary>How long the loop waits, out of descriptors with none of its owner's to free, before it accepts again.</summary>
    internal static readonly TimeSpan OutOfDescriptorsWait = TimeSpan.FromMilliseconds(10);

    /// <summary>Starts the loop on a background thread named <paramref name="name"/>.</summary>
    /// <param name="name">The thread's name.</param>
    /// <param name="accept">accept(2) on the owner's socket.</param>
    /// <param name="accepted">Takes each accepted socket; it owns the socket from then on.</param>
    /// <param name="freeDescriptor">Out of descriptors: closes one the owner holds and returns true, or false when it holds none.</param>
    /// <param name="closing">
    /// The owner's closing token, cancelled before the owner closes its socket: the loop ends at the first failed accept
    /// after it.
    /// </param>
    /// <param name="wait">How long to wait out of descriptors with none freed; <see cref="OutOfDescriptorsWait"/> by default.</param>
    /// <returns>The started thread (it ends once the owner closed).</returns>
    public static Thread Start(string name, Func<Socket> accept, Action<Socket> accepted, Func<bool> freeDescriptor,
        CancellationToken closing, TimeSpan? wait = null)
    {
        var thread = new Thread(() => Run(accept, accepted, freeDescriptor, wait ?? OutOfDescriptorsWait, closing))
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return thread;
    }

    private static void Run(Func<Socket> accept, Action<Socket> accepted, Func<bool> freeDescriptor, TimeSpan wait, CancellationToken closing)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = accept();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                if (closing.IsCancellationRequested)
                    return;
                if (e is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable } && !freeDescriptor())
                    Wait(wait, closing); // none of ours to free: let others close theirs
                continue; // e.g. ECONNABORTED: the connector gave up before we took it
            }
            accepted(client);
        }
    }

    private static void Wait(TimeSpan wait, CancellationToken closing)
    {
        try
        {
            closing.WaitHandle.WaitOne(wait);
        }
        catch (ObjectDisposedException)
        {
            // The owner closed and disposed its token source meanwhile: the next accept fails and ends the loop.
        }
    }
}
