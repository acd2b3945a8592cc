using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// The relay's view of a connection whose socket it took over (<see cref="IVsockDetachable"/>): I/O straight on the
/// socket (with inline completions) through the connection's traffic gate when it has one (simulator faults),
/// addresses and options from the original connection, which is released when this one is disposed.
/// </summary>
internal sealed class SocketConnection(IVsockConnection original, Socket socket) : IVsockConnection
{
    private readonly string _endpoint = original.RemoteAddress.ToString();
    private readonly IVsockTrafficGate? _gate = original as IVsockTrafficGate;
    private int _disposed;

    public VsockAddress LocalAddress => original.LocalAddress;

    public VsockAddress RemoteAddress => original.RemoteAddress;

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (_gate is { IsActive: true } gate)
                await gate.DeliverAsync(read, received: true, cancellationToken).ConfigureAwait(false);
            return read;
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Receive, _endpoint);
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            if (_gate is { IsActive: true } gate)
                await gate.DeliverAsync(buffer.Length, received: false, cancellationToken).ConfigureAwait(false);
            while (!buffer.IsEmpty)
                buffer = buffer[await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Send, _endpoint);
        }
    }

    public void ShutdownSend()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected)
        {
            // The peer is gone already: our side is shut down all the same.
        }
        catch (Exception e)
        {
            throw VmciError.From(e, VmciOperation.Shutdown, _endpoint);
        }
    }

    public void Abort()
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closes the same way without it.
        }
        Dispose();
    }

    public ulong GetOption(VsockOption option) => original.GetOption(option);

    public void SetOption(VsockOption option, ulong value) => original.SetOption(option, value);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        socket.Dispose();
        original.Dispose();
    }
}
