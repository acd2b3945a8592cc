using System.Net.Sockets;

namespace Vmci.Transport.Linux;

/// <summary>A bound, listening AF_VSOCK socket.</summary>
internal sealed class KernelVsockListener : IVsockListener
{
    private readonly Socket _socket;
    private readonly string _endpoint;
    private int _disposed;

    internal KernelVsockListener(Socket socket, VsockAddress localAddress)
    {
        _socket = socket;
        LocalAddress = localAddress;
        _endpoint = localAddress.ToString();
    }

    /// <inheritdoc />
    public VsockAddress LocalAddress { get; }

    /// <inheritdoc />
    public async ValueTask<IVsockConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw VmciError.Create(Errno.EBADF, "accept", _endpoint, "the listener is closed");
        Socket accepted;
        try
        {
            accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw VmciError.Create(Errno.ECANCELED, "accept", _endpoint, "the accept was cancelled", e);
        }
        catch (ObjectDisposedException e)
        {
            throw VmciError.Create(Errno.EBADF, "accept", _endpoint, "the listener is closed", e);
        }
        catch (SocketException e) when (Volatile.Read(ref _disposed) != 0)
        {
            throw VmciError.Create(Errno.EBADF, "accept", _endpoint, "the listener was closed while accepting", e);
        }
        catch (SocketException e)
        {
            throw VsockSocket.Error(e, "accept", _endpoint);
        }
        return KernelVsockConnection.Accepted(accepted, _endpoint);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _socket.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"vsock listener {LocalAddress}";
}
