using System.Net.Sockets;
using Vmci.Vsock.Linux;

namespace Vmci.Vsock;

/// <summary>A bound, listening AF_VSOCK socket (from <see cref="VsockNetwork.Listen"/>).</summary>
public sealed class VsockListener : IVsockListener
{
    private readonly string _endpoint;
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _acceptGate = new(1, 1);
    private readonly ManualResetEventSlim _unused = new(false);
    private readonly Action _endUse;
    private int _uses = 1; // the listener's own, until Dispose; plus one per accept4 call or readiness wait under way
    private int _disposed;

    internal VsockListener(SafeSocketHandle handle, VsockAddress localAddress)
    {
        Handle = handle;
        LocalAddress = localAddress;
        _endpoint = localAddress.ToString();
        _endUse = EndUse;
    }

    /// <inheritdoc />
    public VsockAddress LocalAddress { get; }

    /// <summary>
    /// The listening socket's descriptor (non-blocking), for what this library does not wrap — for example reading an
    /// option back with getsockopt(2) at level AF_VSOCK. Accepted connections inherit its options.
    /// </summary>
    public SafeSocketHandle Handle { get; }

    /// <inheritdoc />
    /// <remarks>Accepts one connection at a time: concurrent calls wait their turn.</remarks>
    public async ValueTask<IVsockConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        try
        {
            await _acceptGate.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                while (true)
                {
                    BeginUse();
                    SafeSocketHandle? accepted;
                    try
                    {
                        accepted = VsockSocket.TryAccept(Handle, _endpoint);
                    }
                    finally
                    {
                        EndUse();
                    }
                    if (accepted is not null)
                        return VsockConnection.Wrap(accepted, VmciOperation.Accept, _endpoint);
                    BeginUse();
                    Task ready;
                    try
                    {
                        ready = Readiness.Shared.WaitAsync(Handle, Interop.EPOLLIN, linked.Token, _endUse);
                    }
                    catch
                    {
                        EndUse();
                        throw;
                    }
                    await ready.ConfigureAwait(false);
                }
            }
            finally
            {
                _acceptGate.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            if (cancellationToken.IsCancellationRequested)
                throw VmciError.Create(Errno.ECANCELED, VmciOperation.Accept, _endpoint, "cancelled by the caller", e);
            throw VmciError.Create(Errno.EBADF, VmciOperation.Accept, _endpoint, "the listener was closed", e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // An accept under way uses the descriptor (an accept4 call, a readiness wait): closed before it lets go, the
        // descriptor would stay open until then — after this method returned, with the port still bound in the kernel.
        // So: cancel (a wait drops its reference on this thread, or at once on the epoll thread), drop the listener's
        // own use, wait for the last (never for a continuation: this may run under the caller's lock), then close.
        _closing.Cancel();
        EndUse();
        _unused.Wait(); // not disposed after: the last EndUse may still be inside Set (it holds no OS handle)
        Handle.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"vsock listener {LocalAddress}";

    /// <summary>Counts a use of the descriptor; EBADF once the listener is closing (no new use starts then).</summary>
    private void BeginUse()
    {
        var uses = Volatile.Read(ref _uses);
        while (true)
        {
            if (uses == 0 || Volatile.Read(ref _disposed) != 0)
                throw VmciError.Create(Errno.EBADF, VmciOperation.Accept, _endpoint, "the listener was closed");
            var seen = Interlocked.CompareExchange(ref _uses, uses + 1, uses);
            if (seen == uses)
                return;
            uses = seen;
        }
    }

    private void EndUse()
    {
        if (Interlocked.Decrement(ref _uses) == 0)
            _unused.Set();
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw VmciError.Create(Errno.EBADF, VmciOperation.Accept, _endpoint, "the listener is closed");
    }
}
