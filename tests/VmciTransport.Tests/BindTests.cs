using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>SPEC §2: bind, LAST_ENDPOINT, unbind, EADDRINUSE, and the synchronous errors.</summary>
public sealed class BindTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void Bind_LeadingZeros_AreDropped()
    {
        var probe = _fabric.Socket(new PairSocket());
        probe.VmciBind("vmci://*:*");
        var port = probe.VmciLastEndpoint()!.Split(':')[^1];
        probe.VmciUnbind(probe.VmciLastEndpoint()!);
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind($"vmci://0002:00{port}");
        Assert.Equal($"vmci://2:{port}", socket.VmciLastEndpoint());
    }

    [Theory]
    [InlineData("vmci://", "the address after 'vmci://' is empty")]
    [InlineData("vmci://5555", "has no ':'")]
    [InlineData("vmci://:5555", "the cid (before the last ':') is empty")]
    [InlineData("vmci://2:", "the port (after the last ':') is empty")]
    [InlineData("vmci://2:5560x", "port '5560x'")]
    [InlineData("vmci://2:+5560", "port '+5560'")]
    [InlineData("vmci://2:4294967296", "port '4294967296'")]
    [InlineData("vmci://-2:5560", "cid '-2'")]
    public void Bind_MalformedEndpoint_ThrowsInvalidWithTheRule(string endpoint, string rule)
    {
        var socket = _fabric.Socket(new PairSocket());
        var e = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciBind(endpoint));
        Assert.Contains($"'{endpoint}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_TcpEndpoint_IsPassedToNetMQ()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("tcp://127.0.0.1:0");
        Assert.StartsWith("tcp://127.0.0.1:", socket.VmciLastEndpoint());
        socket.VmciUnbind(socket.VmciLastEndpoint()!);
    }

    [Fact]
    public void Unbind_DropsAcceptedConnections()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        var bound = _fabric.Link(server, client);
        Bounce.Check(server, client);
        var relay = Vmci.Transport.Internal.SocketState.Find(server)!.FindBind(bound)!;
        Assert.Equal(1, relay.ConnectionCount);
        var connect = Vmci.Transport.Internal.SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();
        server.VmciUnbind(bound);
        _fabric.Watchdog.Until(() => relay.ConnectionCount == 0, "the server dropped the accepted connection");
        _fabric.Watchdog.Until(() => connect.ConnectionCount == 0, "the client's side of the dropped connection closed");
    }

}
