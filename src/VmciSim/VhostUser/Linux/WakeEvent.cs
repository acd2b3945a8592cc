namespace Vmci.Sim.VhostUser.Linux;

/// <summary>
/// An eventfd that other threads set to wake one thread sleeping in poll(2). Setting it is one atomic exchange while a
/// wake-up is already pending; only the first set after a <see cref="Reset"/> writes to the eventfd.
/// </summary>
/// <remarks>
/// The order in <see cref="Reset"/> is the point: drain first, then clear the pending flag. Cleared first, a set landing
/// between the two would write to the eventfd, the drain would swallow that write, and the flag would stay raised with
/// nothing left to read — every later set would then skip its write and the sleeper would never be woken by a set again.
/// (The device lost its wake-ups that way: fabric results waited for the guest's next kick, connects to CID 1 through
/// the device timed out.)
/// </remarks>
internal sealed class WakeEvent : IDisposable
{
    private readonly FileDescriptor _fd;
    private int _pending;

    private WakeEvent(FileDescriptor fd) => _fd = fd;

    /// <summary>The descriptor to poll for POLLIN.</summary>
    public int Descriptor => _fd.Value;

    /// <summary>A new, unset wake-up event; null with <paramref name="errno"/> when no eventfd can be created.</summary>
    public static WakeEvent? Create(out int errno) => NativeIo.CreateEventFd(out errno) is { } fd ? new WakeEvent(fd) : null;

    /// <summary>Wakes the sleeper (any thread): its current or next poll returns.</summary>
    public void Set()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
            _ = NativeIo.Signal(_fd);
    }

    /// <summary>
    /// The sleeper, after poll reported the descriptor readable and before it looks at what the setters left for it:
    /// the event is unset, and the next <see cref="Set"/> writes again.
    /// </summary>
    public void Reset()
    {
        NativeIo.Drain(_fd);
        Volatile.Write(ref _pending, 0);
    }

    public void Dispose() => _fd.Dispose();
}
