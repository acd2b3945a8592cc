using System.Net.Sockets;

namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// The socket NetMQ's engine drives in direct mode: a new <see cref="Socket"/> over the descriptor a connection handed over
/// (<see cref="IVsockDetachable"/>), whose only addition is a notice when NetMQ disposes it — the engine ended (the peer
/// left, an error, unbind, disconnect, the NetMQ socket closed). That notice frees the bind's connection slot and starts the
/// connect side's reconnect. The <see cref="Socket"/> object the backend handed over is dropped without closing the
/// descriptor (its finalizer would close it under the engine).
/// </summary>
internal sealed class AttachedSocket : Socket
{
    private Action? _onClosed;

    private AttachedSocket(SafeSocketHandle handle, Action onClosed)
        : base(handle) => _onClosed = onClosed;

    /// <summary>Takes over the descriptor of <paramref name="detached"/>; <paramref name="onClosed"/> runs once when this socket is disposed (on NetMQ's I/O thread: it must be quick and must not throw).</summary>
    /// <exception cref="SocketException">The descriptor is not a usable socket (the caller still owns <paramref name="detached"/> then).</exception>
    public static AttachedSocket Adopt(Socket detached, Action onClosed)
    {
        var socket = new AttachedSocket(detached.SafeHandle, onClosed);
#pragma warning disable CA1816 // Not a Dispose pattern: the handed-over Socket object is abandoned, its descriptor lives on in this one.
        GC.SuppressFinalize(detached);
#pragma warning restore CA1816
        return socket;
    }

    /// <summary>Shuts both directions down without closing (the engine sees end of stream and closes it itself): ends an engine from outside.</summary>
    public void ShutdownQuietly()
    {
        try
        {
            Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed or never connected: nothing left to end.
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Interlocked.Exchange(ref _onClosed, null)?.Invoke();
    }
}
