using System.Net.Sockets;

namespace Vmci.Transport.Linux;

/// <summary>A connected AF_VSOCK stream socket.</summary>
internal sealed class KernelVsockConnection : IVsockConnection
{
    private readonly Socket _socket;
    private readonly string _endpoint;
    private int _disposed;

    private KernelVsockConnection(Socket socket, VsockAddress local, VsockAddress remote)
    {
        _socket = socket;
        LocalAddress = local;
        RemoteAddress = remote;
        _endpoint = remote.ToString();
    }

    /// <inheritdoc />
    public VsockAddress LocalAddress { get; }

    /// <inheritdoc />
    public VsockAddress RemoteAddress { get; }

    /// <summary>Wraps a socket that connected to <paramref name="endpoint"/>; disposes it on failure.</summary>
    internal static KernelVsockConnection Connected(Socket socket, string endpoint) => Wrap(socket, "connect", endpoint);

    /// <summary>Wraps a socket that a listener on <paramref name="endpoint"/> accepted; disposes it on failure.</summary>
    internal static KernelVsockConnection Accepted(Socket socket, string endpoint) => Wrap(socket, "accept", endpoint);

    private static KernelVsockConnection Wrap(Socket socket, string operation, string endpoint)
    {
        try
        {
            return new KernelVsockConnection(socket,
                VsockSocket.LocalAddress(socket, operation, endpoint), VsockSocket.RemoteAddress(socket, operation, endpoint));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not VmciException)
        {
            throw Error(e, "receive", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (Exception e) when (e is not VmciException)
        {
            throw Error(e, "send", cancellationToken);
        }
    }

    /// <inheritdoc />
    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e)
        {
            throw Error(e, "shutdown", default);
        }
    }

    /// <inheritdoc />
    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Best effort: vsock closes the same way with or without linger.
        }
        _socket.Dispose();
    }

    /// <inheritdoc />
    public ulong GetOption(VsockOption option) => Guard(() => VsockSocket.GetOption(_socket, option, _endpoint), "getsockopt");

    /// <inheritdoc />
    public void SetOption(VsockOption option, ulong value) => Guard(() =>
    {
        VsockSocket.SetOption(_socket, option, value, _endpoint);
        return 0UL;
    }, "setsockopt");

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _socket.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"vsock {LocalAddress} -> {RemoteAddress}";

    private ulong Guard(Func<ulong> call, string operation)
    {
        try
        {
            return call();
        }
        catch (ObjectDisposedException e)
        {
            throw VmciError.Create(Errno.EBADF, operation, _endpoint, "the connection is closed", e);
        }
    }

    private VmciException Error(Exception e, string operation, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested =>
            VmciError.Create(Errno.ECANCELED, operation, _endpoint, "cancelled", e),
        ObjectDisposedException => VmciError.Create(Errno.EBADF, operation, _endpoint, "the connection is closed", e),
        SocketException se when Volatile.Read(ref _disposed) != 0 && se.SocketErrorCode == SocketError.OperationAborted =>
            VmciError.Create(Errno.EBADF, operation, _endpoint, "the connection was closed during the operation", se),
        SocketException se => VsockSocket.Error(se, operation, _endpoint),
        _ => VmciError.Create(Errno.EIO, operation, _endpoint, e.Message, e),
    };
}
