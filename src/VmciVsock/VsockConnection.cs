using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Vmci.Vsock.Linux;

namespace Vmci.Vsock;

/// <summary>A connected AF_VSOCK stream (from <see cref="VsockNetwork.ConnectAsync"/> or <see cref="VsockListener.AcceptAsync"/>).</summary>
public sealed class VsockConnection : IVsockConnection, IVsockDetachable
{
    private readonly string _endpoint;
    private int _disposed;
    private int _detached;

    private VsockConnection(Socket socket, VsockAddress local, VsockAddress remote)
    {
        Socket = socket;
        LocalAddress = local;
        RemoteAddress = remote;
        _endpoint = remote.ToString();
    }

    /// <inheritdoc />
    public VsockAddress LocalAddress { get; }

    /// <inheritdoc />
    public VsockAddress RemoteAddress { get; }

    /// <summary>
    /// The connected stream socket: a .NET <see cref="System.Net.Sockets.Socket"/> over the AF_VSOCK descriptor, for I/O
    /// engines that drive a socket themselves (the NetMQ transport's direct mode) and for options this library does not
    /// wrap. Its <c>LocalEndPoint</c> and <c>RemoteEndPoint</c> are not available (.NET knows no AF_VSOCK): use
    /// <see cref="LocalAddress"/> and <see cref="RemoteAddress"/>. Disposing the connection disposes it, unless it was
    /// handed over with <see cref="TryDetachSocket"/>.
    /// </summary>
    public Socket Socket { get; }

    /// <summary>Wraps a connected descriptor; disposes it when its addresses cannot be read.</summary>
    internal static VsockConnection Wrap(SafeSocketHandle handle, VmciOperation operation, string endpoint)
    {
        try
        {
            var local = VsockSocket.LocalAddress(handle, operation, endpoint);
            var remote = VsockSocket.RemoteAddress(handle, operation, endpoint);
            return new VsockConnection(new Socket(handle), local, remote);
        }
        catch (Exception e)
        {
            handle.Dispose();
            throw VmciError.From(e, operation, endpoint);
        }
    }

    /// <inheritdoc />
    /// <remarks>The kernel backend always can, unless the connection is closed or already handed over.</remarks>
    public bool TryDetachSocket([NotNullWhen(true)] out Socket? socket)
    {
        socket = null;
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _detached, 1) != 0)
            return false;
        socket = Socket;
        return true;
    }

    /// <inheritdoc />
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDetached(VmciOperation.Receive);
        try
        {
            return await Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Receive, _endpoint);
        }
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDetached(VmciOperation.Send);
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = await Socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Send, _endpoint);
        }
    }

    /// <inheritdoc />
    public void ShutdownSend()
    {
        ThrowIfDetached(VmciOperation.Shutdown);
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Shutdown, _endpoint);
        }
    }

    /// <inheritdoc />
    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || Volatile.Read(ref _detached) != 0)
            return;
        try
        {
            Socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Best effort: vsock closes the same way with or without linger.
        }
        Socket.Dispose();
    }

    /// <inheritdoc />
    public ulong GetOption(VsockOption option)
    {
        try
        {
            return VsockSocket.GetOption(Socket.SafeHandle, option, _endpoint);
        }
        catch (ObjectDisposedException e)
        {
            throw VmciError.From(e, VmciOperation.GetOption, _endpoint);
        }
    }

    /// <inheritdoc />
    public void SetOption(VsockOption option, ulong value)
    {
        try
        {
            VsockSocket.SetOption(Socket.SafeHandle, option, value, _endpoint);
        }
        catch (ObjectDisposedException e)
        {
            throw VmciError.From(e, VmciOperation.SetOption, _endpoint);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Volatile.Read(ref _detached) == 0)
            Socket.Dispose();
    }

    private void ThrowIfDetached(VmciOperation operation)
    {
        if (Volatile.Read(ref _detached) != 0)
            throw VmciError.Create(Errno.EBADF, operation, _endpoint, "the socket was handed over (TryDetachSocket); its new owner does the I/O");
    }

    /// <inheritdoc />
    public override string ToString() => $"vsock {LocalAddress} -> {RemoteAddress}";
}
