using System.Net;
using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// The bind side: a vsock listener, and for every vmci connection it accepts one loopback TCP connection to
/// the NetMQ socket's hidden <c>tcp://127.0.0.1:P</c> endpoint, paired by a <see cref="RelayPair"/>.
/// Disposing it closes the listener and resets every accepted connection.
/// </summary>
internal sealed class BindRelay : RelayBase
{
    private readonly IVsockListener _listener;
    private readonly IPEndPoint _target;

    public BindRelay(IVsockListener listener, int tcpPort)
    {
        _listener = listener;
        _target = new IPEndPoint(IPAddress.Loopback, tcpPort);
    }

    /// <summary>The port of the NetMQ socket's hidden tcp endpoint.</summary>
    public int TcpPort => _target.Port;

    /// <summary>The vmci address the listener really bound.</summary>
    public VsockAddress LocalAddress => _listener.LocalAddress;

    /// <summary>Starts accepting.</summary>
    public void Start() => Track(Task.Run(AcceptLoopAsync));

    protected override void CloseListener() => _listener.Dispose();

    private async Task AcceptLoopAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            IVsockConnection vsock;
            try
            {
                vsock = await _listener.AcceptAsync(Stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is VmciException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await tcp.ConnectAsync(_target, Stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The NetMQ socket is gone (disposed or unbound): refuse this peer and let the owner clean up.
                tcp.Dispose();
                vsock.Abort();
                vsock.Dispose();
                continue;
            }
            Adopt(tcp, vsock);
        }
    }
}
