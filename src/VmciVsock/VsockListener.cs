using System.Net.Sockets;
using Vmci.Vsock.Linux;

namespace Vmci.Vsock;

/// <summary>A bound, listening AF_VSOCK socket (from <see cref="VsockNetwork.Listen"/>).</summary>
public sealed class VsockListener : IVsockListener
{
    private readonly string _endpoint;
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _acceptGate = new(1, 1);
    private int _disposed;

    internal VsockListener(SafeSocketHandle handle, VsockAddress localAddress)
    {
        Handle = handle;
        LocalAddress = localAddress;
        _endpoint = localAddress.ToString();
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
                    if (VsockSocket.TryAccept(Handle, _endpoint) is { } accepted)
                        return VsockConnection.Wrap(accepted, VmciOperation.Accept, _endpoint);
                    await Readiness.Shared.WaitAsync(Handle, Interop.EPOLLIN, linked.Token).ConfigureAwait(false);
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
        _closing.Cancel(); // ends a pending wait first: it holds a reference on the descriptor
        Handle.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"vsock listener {LocalAddress}";

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw VmciError.Create(Errno.EBADF, VmciOperation.Accept, _endpoint, "the listener is closed");
    }
}
