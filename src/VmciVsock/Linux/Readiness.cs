using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Vsock.Linux;

/// <summary>
/// Waits, without blocking a thread per wait, until a socket is ready: writable once a non-blocking connect has
/// finished, readable once a listener has a connection to accept. One epoll thread serves every wait of the process;
/// each wait registers its fd once (EPOLLONESHOT), holds a reference on its handle while registered, and is removed
/// again by whoever completes it first — the event, the caller's cancellation or the deadline. .NET's own socket engine
/// has no such wait, and the errno of connect and accept must be read from the calls themselves.
/// </summary>
internal sealed unsafe class Readiness
{
    private static readonly Lazy<Readiness> Instance = new(() => new Readiness(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly SafeFileHandle _epoll;
    private readonly ConcurrentDictionary<ulong, Wait> _waits = new();
    private long _nextKey;

    private Readiness()
    {
        _epoll = Interop.OwnFile(Interop.epoll_create1(Interop.EPOLL_CLOEXEC))
            ?? throw VmciError.FromErrno(Interop.LastErrno, VmciOperation.Connect, null, "epoll_create1");
        new Thread(Loop) { IsBackground = true, Name = "vmci-vsock readiness" }.Start();
    }

    /// <summary>The process's one instance (its epoll thread starts on first use).</summary>
    public static Readiness Shared => Instance.Value;

    /// <summary>Completes when <paramref name="socket"/> reports one of <paramref name="events"/> (or an error or hang-up).</summary>
    /// <param name="socket">The socket to watch; referenced until the wait is removed.</param>
    /// <param name="events">EPOLLIN, EPOLLOUT.</param>
    /// <param name="cancellationToken">Ends the wait; the reference is dropped on the cancelling thread, before it goes on.</param>
    /// <param name="released">
    /// Called once the wait holds no reference on <paramref name="socket"/> any more — at once, on the thread that removed
    /// the wait (the epoll thread or the canceller), before the returned task completes. Only when this method returns.
    /// </param>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> had fired already.</exception>
    public Task WaitAsync(SafeSocketHandle socket, uint events, CancellationToken cancellationToken, Action? released = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var key = (ulong)Interlocked.Increment(ref _nextKey);
        var wait = new Wait(socket, released);
        var added = false;
        socket.DangerousAddRef(ref added);
        _waits[key] = wait;
        var ev = new Interop.EpollEvent { events = events | Interop.EPOLLONESHOT, data = key };
        if (Interop.epoll_ctl(_epoll, Interop.EPOLL_CTL_ADD, (int)socket.DangerousGetHandle(), &ev) != 0)
        {
            var errno = Interop.LastErrno;
            _waits.TryRemove(key, out _);
            socket.DangerousRelease();
            throw VmciError.FromErrno(errno, VmciOperation.Connect, null, "epoll_ctl");
        }
        if (cancellationToken.CanBeCanceled)
        {
            wait.Registration = cancellationToken.UnsafeRegister(_ => Complete(key, cancellationToken), null);
            if (wait.Completion.Task.IsCompleted)
                wait.Registration.Dispose(); // the event won the race before the registration existed
        }
        return wait.Completion.Task;
    }

    private void Loop()
    {
        const int Capacity = 64;
        var events = stackalloc Interop.EpollEvent[Capacity];
        while (true)
        {
            var count = Interop.epoll_wait(_epoll, events, Capacity, -1);
            if (count < 0)
            {
                if (Interop.LastErrno == Interop.EINTR)
                    continue;
                return; // the epoll fd itself broke: nothing sensible is left to do on this thread
            }
            for (var i = 0; i < count; i++)
                Complete(events[i].data, null);
        }
    }

    /// <summary>Removes the wait (once) and completes it: ready, or cancelled by <paramref name="cancelledBy"/>.</summary>
    private void Complete(ulong key, CancellationToken? cancelledBy)
    {
        if (!_waits.TryRemove(key, out var wait))
            return;
        Interop.epoll_ctl(_epoll, Interop.EPOLL_CTL_DEL, (int)wait.Socket.DangerousGetHandle(), null);
        wait.Socket.DangerousRelease();
        wait.Released?.Invoke();
        wait.Registration.Dispose();
        if (cancelledBy is { } token)
            wait.Completion.TrySetCanceled(token);
        else
            wait.Completion.TrySetResult();
    }

    private sealed class Wait(SafeSocketHandle socket, Action? released)
    {
        public SafeSocketHandle Socket { get; } = socket;

        public Action? Released { get; } = released;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
