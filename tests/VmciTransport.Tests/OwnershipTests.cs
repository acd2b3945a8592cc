using System.Diagnostics;
using System.Net.Sockets;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>The connect-side relay listener serves only its own process.</summary>
public sealed class OwnershipTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public async Task RelayListener_ConnectionFromAnotherProcess_IsRefused()
    {
        if (!LoopbackOwnership.IsEnforced)
            Assert.Skip("the ownership check exists on Linux only");
        if (!File.Exists("/bin/bash"))
            Assert.Skip("needs /bin/bash for its /dev/tcp stranger");
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        client.VmciOptions().TransportMode = VmciTransportMode.Relay; // the ownership check guards the relay's listener
        var bound = _fabric.Link(server, client);
        Bounce.Check(server, client);
        var relay = (ConnectRelay)SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();

        // The stranger connects, then waits for the relay to close its connection (cat returns at end of stream/reset).
        var stranger = Process.Start(new ProcessStartInfo("/bin/bash", ["-c", $"exec 3<>/dev/tcp/127.0.0.1/{relay.Port} && cat <&3; echo closed"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var watchdog = _fabric.Watchdog;
        var output = await watchdog.Guard(stranger.StandardOutput.ReadToEndAsync(watchdog.Token));
        await watchdog.Guard(stranger.WaitForExitAsync(watchdog.Token));
        Assert.Equal("closed", output.Trim());
        Assert.Equal(1, relay.Refused);
        Assert.Equal(1, relay.Attempts);
        Bounce.Check(server, client);
    }

    [Fact]
    public void RelayListener_ConnectionFromThisProcess_IsOwn()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
        using var own = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        own.Connect(System.Net.IPAddress.Loopback, port);
        using var accepted = listener.Accept();
        Assert.Equal(LoopbackOwnership.IsEnforced, LoopbackOwnership.IsOwnConnection(accepted, port) && LoopbackOwnership.IsEnforced);
    }
}
