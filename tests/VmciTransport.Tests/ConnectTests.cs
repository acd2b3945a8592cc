using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>SPEC §3: connect, LAST_ENDPOINT, disconnect by the original string, reconnect schedule.</summary>
public sealed class ConnectTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void Connect_BeforeBind_MessagesFlow()
    {
        var probe = _fabric.Socket(new PairSocket());
        probe.VmciBind("vmci://*:*");
        var bound = probe.VmciLastEndpoint()!;
        probe.VmciUnbind(bound);

        var client = _fabric.Socket(new PairSocket(), _fabric.Guest);
        client.Options.ReconnectInterval = TimeSpan.FromMilliseconds(20);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("queued before the peer existed");
        var relay = SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();
        _fabric.Watchdog.Until(() => relay.LastError is not null, "a first attempt failed");
        Assert.Equal(Errno.ECONNRESET, relay.LastError!.Errno);

        var server = _fabric.Socket(new PairSocket());
        server.VmciBind(bound);
        Assert.Equal("queued before the peer existed", Delivery.ReceiveString(server));
        Bounce.Check(server, client);
    }

    [Fact]
    public void Connect_ReconnectIntervalMinusOne_GivesUpAfterOneAttempt()
    {
        var socket = _fabric.Socket(new PairSocket(), _fabric.Guest);
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(-1);
        socket.VmciConnect("vmci://2:7003");
        var relay = SocketState.Find(socket)!.FindConnects("vmci://2:7003").Single();
        _fabric.Watchdog.Until(() => relay.GaveUp, "the relay gave up");
        Assert.Equal(1, relay.Attempts);
    }

    [Fact]
    public void ReconnectPolicy_WithMaximum_DoublesUpToIt_PlusJitterBelowInterval()
    {
        var policy = new ReconnectPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500));
        foreach (var (failures, baseMs) in new[] { (1, 100), (2, 200), (3, 400), (4, 500), (10, 500) })
        {
            var delay = policy.Delay(failures).TotalMilliseconds;
            Assert.InRange(delay, baseMs, baseMs + 99.999);
        }
        var flat = new ReconnectPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.Zero);
        Assert.InRange(flat.Delay(5).TotalMilliseconds, 100, 199.999);
        Assert.False(new ReconnectPolicy(TimeSpan.FromMilliseconds(-1), TimeSpan.Zero).Retries);
    }

    [Fact]
    public void Connect_Retries_CountAttempts()
    {
        var socket = _fabric.Socket(new PairSocket(), _fabric.Guest);
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(10);
        socket.VmciConnect("vmci://2:7004");
        var relay = SocketState.Find(socket)!.FindConnects("vmci://2:7004").Single();
        _fabric.Watchdog.Until(() => relay.Attempts >= 3, "three attempts were made");
        Assert.False(relay.GaveUp);
    }

    [Fact]
    public void Disconnect_DropsTheConnection_AndThePeerSeesIt()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        var bound = _fabric.Link(server, client);
        Bounce.Check(server, client);
        var accepted = SocketState.Find(server)!.FindBind(bound)!;
        client.VmciDisconnect(Fabric.ToHost(bound));
        _fabric.Watchdog.Until(() => accepted.ConnectionCount == 0, "the server's relay saw the disconnect");
    }

    [Fact]
    public void Dispose_Socket_TearsDownItsRelays()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        var bound = _fabric.Link(server, client);
        Bounce.Check(server, client);
        var accepted = SocketState.Find(server)!.FindBind(bound)!;
        var connect = SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();
        server.Dispose();
        _fabric.Watchdog.Until(() => accepted.ConnectionCount == 0 && connect.ConnectionCount == 0, "both relays dropped the connection");
        _fabric.Watchdog.Until(() => !SocketState.Find(server)!.HasEndpoints, "the disposed socket's relays were closed");
        // The port is free again: a new socket can bind it.
        var again = _fabric.Socket(new PairSocket());
        again.VmciBind(bound);
        Bounce.Check(again, client);
    }

    [Fact]
    public void Connect_ManyPeers_EachGetsItsOwnConnection()
    {
        var server = _fabric.Socket(new RouterSocket());
        server.VmciBind("vmci://*:*");
        var target = Fabric.ToHost(server.VmciLastEndpoint()!);
        var clients = Enumerable.Range(0, 4).Select(i =>
        {
            var c = _fabric.Socket(new DealerSocket(), _fabric.Guest);
            c.Options.Identity = [(byte)('a' + i)];
            c.VmciConnect(target);
            return c;
        }).ToList();
        foreach (var c in clients)
            c.SendFrame("hi");
        var seen = Enumerable.Range(0, 4).Select(_ => Delivery.Receive(server)[0].ConvertToString()).Order().ToList();
        Assert.Equal(["a", "b", "c", "d"], seen);
    }
}
