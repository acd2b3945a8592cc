using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>Runs alone: its tests compare process-wide state (listening TCP sockets, descriptors, threads) before and after, which other tests would change.</summary>
[CollectionDefinition(nameof(ProcessWideCollection), DisableParallelization = true)]
public sealed class ProcessWideCollection;

/// <summary>Direct mode opens no TCP listener (what <c>ss -ltnp</c> shows); the relay opens its hidden one.</summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class TcpListenerTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    private T Socket<T>(T socket, VmciTransportMode mode, IVsockNetwork? network = null) where T : NetMQSocket
    {
        _fabric.Socket(socket, network);
        socket.VmciOptions().TransportMode = mode;
        return socket;
    }

    [Fact]
    public void Bind_Direct_NetMQsOwnLastEndpointIsTheVmciOne_AndNoTcpListenerAppears()
    {
        var before = TcpListeners.OfThisProcess();
        var server = Socket(new ResponseSocket(), VmciTransportMode.Direct);
        server.VmciBind("vmci://*:*");
        var client = Socket(new RequestSocket(), VmciTransportMode.Direct, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(server.VmciLastEndpoint()!));
        client.SendFrame("ping");
        Assert.Equal("ping", Delivery.ReceiveString(server));
        server.SendFrame("pong");
        Assert.Equal("pong", Delivery.ReceiveString(client));

        Assert.StartsWith("vmci://*:", server.Options.LastEndpoint, StringComparison.Ordinal);
        Assert.StartsWith("vmci://2:", client.Options.LastEndpoint, StringComparison.Ordinal);
        Assert.Equal(before, TcpListeners.OfThisProcess());
    }

    [Fact]
    public void Bind_Relay_HasItsHiddenTcpListener()
    {
        var before = TcpListeners.OfThisProcess();
        var server = Socket(new PairSocket(), VmciTransportMode.Relay);
        server.VmciBind("vmci://*:*");
        Assert.StartsWith("tcp://127.0.0.1:", server.Options.LastEndpoint, StringComparison.Ordinal);
        Assert.Single(TcpListeners.OfThisProcess().Except(before));
    }

}
