using System.Net;
using System.Net.Sockets;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>The relay's bind side on its own: it keeps accepting vmci peers while the NetMQ socket is slow to take their loopback connections.</summary>
public sealed class BindRelayTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public async Task Accept_TheNetMQSocketDoesNotAcceptItsLoopbackConnections_VmciPeersAreStillAccepted()
    {
        // Stands for a NetMQ socket whose I/O thread is busy: a loopback listener that never accepts. Once its queue is
        // full, a connect to it waits (the kernel drops the SYN and retries after a second, then three, ...).
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen(1);
        // The simulator accepts a connection (and the connect succeeds) only while the vmci accept queue has room: 3 here.
        var listener = _fabric.Host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), null, backlog: 2);
        using var relay = new BindRelay(listener, ((IPEndPoint)busy.LocalEndPoint!).Port, new EndpointLimits(1000, TimeSpan.Zero), raw: false, TimeSpan.Zero);
        relay.Start();
        var target = new VsockAddress(VmciCid.Host, listener.LocalAddress.Port);
        var peers = new List<IVsockConnection>();
        try
        {
            // Four times what the queue holds: each is taken off the queue although its loopback connect is stuck. A
            // connector that finds the queue full for a moment (the relay takes peers off it on another thread) tries
            // again, as NetMQ would; while the relay waited in its accept loop for the stuck connects, no peer past the
            // third got in before the watchdog (the kernel retries a dropped SYN after 1, 3, 7 ... s).
            for (var i = 0; i < 12; i++)
                peers.Add(await ConnectAsync(target, i + 1));
            Assert.Equal(12, peers.Count);
        }
        finally
        {
            foreach (var peer in peers)
                peer.Dispose();
        }
    }

    private async Task<IVsockConnection> ConnectAsync(VsockAddress target, int peer)
    {
        try
        {
            while (true)
            {
                try
                {
                    return await _fabric.Guest.ConnectAsync(target, null, _fabric.Watchdog.Token);
                }
                catch (VmciException e) when (e.Errno == Errno.ECONNRESET)
                {
                    await Task.Delay(10, _fabric.Watchdog.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_fabric.Watchdog.Token.IsCancellationRequested)
        {
            Assert.Fail($"watchdog: peer {peer} was refused (a full accept queue) until the watchdog fired: the relay stopped taking peers off the queue");
            throw;
        }
    }
}
