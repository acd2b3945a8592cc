using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Transport.Internal.Linux;

/// <summary>
/// A kernel pipe that moves a socket's bytes to another socket with splice(2), so they never enter this process: from a
/// TCP or Unix socket the pipe takes the received pages by reference, and into one it hands them on (Linux 6.x: TCP
/// and Unix stream sockets; a vsock destination copies them in the kernel, still one copy fewer than a read and a
/// write). Both ends are non-blocking; a socket that would block reports it (<see cref="WouldBlock"/>) and the caller
/// waits with the socket's own async operations. Pipes are pooled: a pump rents one for a burst and returns it empty.
/// </summary>
internal sealed partial class KernelPipe : IDisposable
{
    /// <summary>
    /// What one fill asks for: 64 KiB, a new pipe's own size (16 pages), so a burst holds no more in the kernel than the
    /// copy loop holds in its chunk. Pipes of 256 KiB and 1 MiB (<c>F_SETPIPE_SZ</c>) were measured no faster.
    /// </summary>
    public const int Capacity = 64 * 1024;

    /// <summary>Returned by <see cref="FillFrom"/> and <see cref="DrainTo"/> when the socket would block (EAGAIN).</summary>
    public const int WouldBlock = -1;

    /// <summary>Empty pipes kept for the next burst; beyond that they are closed.</summary>
    private const int PoolLimit = 16;

    /// <summary>O_NONBLOCK.</summary>
    private const int O_NONBLOCK = 0x800;

    /// <summary>O_CLOEXEC: not inherited by child processes.</summary>
    private const int O_CLOEXEC = 0x80000;

    /// <summary>fcntl: get the file status flags.</summary>
    private const int F_GETFL = 3;

    /// <summary>fcntl: set the file status flags.</summary>
    private const int F_SETFL = 4;

    /// <summary>splice: move pages rather than copy them where the kernel can.</summary>
    private const uint SPLICE_F_MOVE = 1;

    /// <summary>splice: do not block on the pipe.</summary>
    private const uint SPLICE_F_NONBLOCK = 2;

    private static readonly ConcurrentBag<KernelPipe> Pool = [];
    private static int _pooled;
    private static int _open;

    private readonly SafeFileHandle _readEnd;
    private readonly SafeFileHandle _writeEnd;
    private int _disposed;

    private KernelPipe(SafeFileHandle readEnd, SafeFileHandle writeEnd)
    {
        _readEnd = readEnd;
        _writeEnd = writeEnd;
    }

    /// <summary>Pipes open in this process, pooled ones included (tests: every pipe not in use is in the pool).</summary>
    public static int Open => Volatile.Read(ref _open);

    /// <summary>Empty pipes in the pool.</summary>
    public static int Pooled => Volatile.Read(ref _pooled);

    /// <summary>Bytes in the pipe, taken from one socket and not yet given to the other.</summary>
    public int Buffered { get; private set; }

    /// <summary>int fds[2].</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Fds
    {
        public int Read;
        public int Write;
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int pipe2(out Fds fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(SafeHandle fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint splice(SafeHandle fdIn, nint offIn, SafeHandle fdOut, nint offOut, nuint len, uint flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint read(SafeHandle fd, byte* buffer, nuint count);

    /// <summary>An empty pipe from the pool, or a new one; null when none can be opened (EMFILE, ENFILE: the caller copies).</summary>
    public static KernelPipe? TryRent()
    {
        if (Pool.TryTake(out var pooled))
        {
            Interlocked.Decrement(ref _pooled);
            return pooled;
        }
        int rc;
        Fds fds;
        do
            rc = pipe2(out fds, O_NONBLOCK | O_CLOEXEC);
        while (rc < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (rc < 0)
            return null;
        var pipe = new KernelPipe(new SafeFileHandle(fds.Read, ownsHandle: true), new SafeFileHandle(fds.Write, ownsHandle: true));
        Interlocked.Increment(ref _open);
        return pipe;
    }

    /// <summary>Gives the pipe back for the next burst when it is empty; closes it otherwise or when the pool is full.</summary>
    public void Return()
    {
        if (Buffered == 0 && Interlocked.Increment(ref _pooled) <= PoolLimit)
        {
            Pool.Add(this);
            return;
        }
        if (Buffered == 0)
            Interlocked.Decrement(ref _pooled);
        Dispose();
    }

    /// <summary>Makes <paramref name="socket"/> non-blocking, as .NET's async operations keep it; splice must never wait.</summary>
    /// <exception cref="VmciException">The errno of fcntl(2).</exception>
    public static void EnsureNonBlocking(SafeHandle socket, string endpoint)
    {
        var flags = fcntl(socket, F_GETFL, 0);
        if (flags >= 0 && (flags & O_NONBLOCK) == 0)
            flags = fcntl(socket, F_SETFL, flags | O_NONBLOCK);
        if (flags < 0)
            throw VmciError.FromErrno(Marshal.GetLastPInvokeError(), VmciOperation.Send, endpoint, "fcntl O_NONBLOCK for splicing");
    }

    /// <summary>Moves what <paramref name="socket"/> has received (up to the pipe's free room) into the pipe.</summary>
    /// <returns>The bytes moved; 0 at the end of the stream; <see cref="WouldBlock"/> when nothing is there now.</returns>
    /// <exception cref="VmciException">The socket's error (ECONNRESET, …); EINVAL when it cannot be spliced from.</exception>
    public int FillFrom(SafeHandle socket, string endpoint)
    {
        var moved = Splice(socket, _writeEnd, Capacity - Buffered, VmciOperation.Receive, endpoint);
        if (moved > 0)
            Buffered += moved;
        return moved;
    }

    /// <summary>Moves the pipe's bytes into <paramref name="socket"/>, as many as it takes now.</summary>
    /// <returns>The bytes moved; <see cref="WouldBlock"/> when the socket has no room now.</returns>
    /// <exception cref="VmciException">The socket's error (EPIPE, ECONNRESET, …).</exception>
    public int DrainTo(SafeHandle socket, string endpoint)
    {
        var moved = Splice(_readEnd, socket, Buffered, VmciOperation.Send, endpoint);
        if (moved > 0)
            Buffered -= moved;
        return moved;
    }

    /// <summary>Reads the pipe's first bytes into <paramref name="buffer"/> (to be sent by an operation that can wait).</summary>
    /// <returns>The bytes read, at most <see cref="Buffered"/>.</returns>
    public unsafe int Read(Span<byte> buffer, string endpoint)
    {
        var count = Math.Min(buffer.Length, Buffered);
        nint n;
        fixed (byte* p = buffer)
        {
            do
                n = read(_readEnd, p, (nuint)count);
            while (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        }
        if (n < 0)
            throw VmciError.FromErrno(Marshal.GetLastPInvokeError(), VmciOperation.Send, endpoint, "read from the splice pipe");
        Buffered -= (int)n;
        return (int)n;
    }

    /// <summary>Closes both ends (whatever is still in the pipe is dropped with it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Interlocked.Decrement(ref _open);
        _readEnd.Dispose();
        _writeEnd.Dispose();
    }

    private static int Splice(SafeHandle from, SafeHandle to, int count, VmciOperation operation, string endpoint)
    {
        nint n;
        do
            n = splice(from, 0, to, 0, (nuint)count, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        while (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (n >= 0)
            return (int)n;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == (int)Errno.EAGAIN)
            return WouldBlock;
        throw VmciError.FromErrno(errno, operation, endpoint, "splice");
    }
}
