using System.Buffers;
using System.Net.Sockets;
using Vmci.Transport.Internal.Linux;

namespace Vmci.Transport.Internal;

/// <summary>
/// One burst of a relay direction moved in the kernel: splice(2) from the source socket into a pooled
/// <see cref="KernelPipe"/>, a pipe-full at a time, and from the pipe into the destination, until the source has nothing
/// more for now. Each pipe-full passes the simulator's traffic gate while it is active, as a copied chunk does (received
/// bytes wait for latency and bandwidth, all bytes while the pair is stalled), so faults act on spliced bytes too. When
/// the destination is full, the pipe's first bytes are sent by a socket operation that waits for room, and splicing
/// resumes after it — the pipe never needs a readiness API of its own.
/// </summary>
/// <param name="from">A connected TCP or Unix stream socket (one that can wait with a zero-byte read when the burst ends).</param>
/// <param name="to">A connected stream socket.</param>
/// <param name="gate">The traffic gate of the vmci side, or null.</param>
/// <param name="received">True when the bytes come from the vmci peer (they are "received" for the gate).</param>
/// <param name="endpoint">Named in errors.</param>
/// <param name="onMoved">Told each pipe-full taken from the source, before it goes on.</param>
internal sealed class SpliceBurst(Socket from, Socket to, IVsockTrafficGate? gate, bool received, string endpoint, Action<int> onMoved)
{
    /// <summary>What is sent by copying while the destination is full: the send waits for room, then splicing resumes.</summary>
    public const int RoomWaitSize = 16 * 1024;

    /// <summary>How a burst ended.</summary>
    public enum Result
    {
        /// <summary>The source has nothing more for now and everything taken was delivered: wait as usual.</summary>
        Drained,

        /// <summary>The source's stream ended, everything before it delivered.</summary>
        Ended,

        /// <summary>
        /// Nothing moved and the direction should copy from now on: the kernel cannot splice from this source (EINVAL), or
        /// no pipe could be opened (out of descriptors).
        /// </summary>
        Copy,
    }

    /// <summary>Moves the burst.</summary>
    /// <exception cref="VmciException">Either socket's error (ECONNRESET, EPIPE, …) or the gate's (a reset fault).</exception>
    /// <exception cref="SocketException">The destination's error while waiting for room.</exception>
    /// <exception cref="ObjectDisposedException">A socket was closed meanwhile (the pair was aborted).</exception>
    public async Task<Result> RunAsync()
    {
        if (KernelPipe.TryRent() is not { } pipe)
            return Result.Copy;
        try
        {
            KernelPipe.EnsureNonBlocking(to.SafeHandle, endpoint);
            for (var first = true; ; first = false)
            {
                int n;
                try
                {
                    n = pipe.FillFrom(from.SafeHandle, endpoint);
                }
                catch (VmciException e) when (first && e.Errno == Errno.EINVAL)
                {
                    return Result.Copy;
                }
                if (n == KernelPipe.WouldBlock)
                    return Result.Drained;
                if (n == 0)
                    return Result.Ended;
                onMoved(n);
                if (gate is { IsActive: true })
                    await gate.DeliverAsync(n, received).ConfigureAwait(false);
                while (pipe.Buffered > 0)
                {
                    if (pipe.DrainTo(to.SafeHandle, endpoint) == KernelPipe.WouldBlock)
                        await SendWhenRoomAsync(pipe).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            pipe.Return();
        }
    }

    private async ValueTask SendWhenRoomAsync(KernelPipe pipe)
    {
        var piece = ArrayPool<byte>.Shared.Rent(RoomWaitSize);
        try
        {
            var data = piece.AsMemory(0, pipe.Read(piece.AsSpan(0, RoomWaitSize), endpoint));
            while (!data.IsEmpty)
                data = data[await to.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }
}
