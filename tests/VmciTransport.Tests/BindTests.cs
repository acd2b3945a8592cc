using NetMQ;
using NetMQ.Sockets;

namespace Vmci.Transport.Tests;

/// <summary>SPEC §2: bind, LAST_ENDPOINT, unbind, EADDRINUSE, and the synchronous errors.</summary>
public sealed class BindTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void LastEndpoint_BeforeAnyBind_IsEmpty()
    {
        var socket = _fabric.Socket(new PairSocket());
        Assert.True(string.IsNullOrEmpty(socket.VmciLastEndpoint()));
    }

    [Fact]
    public void Bind_WildcardCidAndPort_ReportsStarAndAssignedPort()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://*:*");
        Assert.Matches(@"^vmci://\*:[1-9][0-9]*$", socket.VmciLastEndpoint());
    }

    [Theory]
    [InlineData("vmci://-1:-1")]
    [InlineData("vmci://4294967295:*")]
    public void Bind_AnySpelledOtherwise_ReportsStar(string endpoint)
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind(endpoint);
        Assert.StartsWith("vmci://*:", socket.VmciLastEndpoint());
    }

    [Fact]
    public void Bind_LocalCid_ReportsTheNumber()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://@:*");
        Assert.Matches(@"^vmci://2:[0-9]+$", socket.VmciLastEndpoint());
    }

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

    [Fact]
    public void Unbind_WildcardEndpoint_ThrowsEndpointNotFound()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://*:*");
        var e = Assert.Throws<EndpointNotFoundException>(() => socket.VmciUnbind("vmci://*:*"));
        AssertCarries(e, Errno.ENOENT, "unbind 'vmci://*:*'");
        socket.VmciUnbind(socket.VmciLastEndpoint()!);
    }

    [Fact]
    public void Unbind_Twice_SecondThrowsEndpointNotFound()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://*:*");
        var bound = socket.VmciLastEndpoint()!;
        socket.VmciUnbind(bound);
        var e = Assert.Throws<EndpointNotFoundException>(() => socket.VmciUnbind(bound));
        AssertCarries(e, Errno.ENOENT, $"unbind '{bound}'");
    }

    [Fact]
    public void Unbind_LocalCidForm_ThrowsEndpointNotFound_NumericFormSucceeds()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://@:*");
        var bound = socket.VmciLastEndpoint()!;
        var port = bound.Split(':')[^1];
        Assert.Throws<EndpointNotFoundException>(() => socket.VmciUnbind($"vmci://@:{port}"));
        socket.VmciUnbind(bound);
    }

    [Fact]
    public void Unbind_FreesThePort_ForANewBind()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://*:*");
        var bound = socket.VmciLastEndpoint()!;
        socket.VmciUnbind(bound);
        socket.VmciBind(bound);
        Assert.Equal(bound, socket.VmciLastEndpoint());
    }

    [Fact]
    public void Bind_SamePortTwice_ThrowsAddressAlreadyInUse()
    {
        var first = _fabric.Socket(new PairSocket());
        first.VmciBind("vmci://*:*");
        var bound = first.VmciLastEndpoint()!;
        var second = _fabric.Socket(new PairSocket());
        var e = Assert.Throws<AddressAlreadyInUseException>(() => second.VmciBind(bound));
        AssertCarries(e, Errno.EADDRINUSE, "bind");
        Assert.True(string.IsNullOrEmpty(second.VmciLastEndpoint()), "a failed bind leaves LAST_ENDPOINT unchanged");
    }

    [Fact]
    public void Bind_AnyCidAndLocalCidSamePort_ThrowsAddressAlreadyInUse()
    {
        var first = _fabric.Socket(new PairSocket());
        first.VmciBind("vmci://*:*");
        var port = first.VmciLastEndpoint()!.Split(':')[^1];
        var second = _fabric.Socket(new PairSocket());
        Assert.Throws<AddressAlreadyInUseException>(() => second.VmciBind($"vmci://2:{port}"));
    }

    [Fact]
    public void Bind_FailedAfterSuccess_LeavesLastEndpointUnchanged()
    {
        var socket = _fabric.Socket(new PairSocket());
        socket.VmciBind("vmci://*:*");
        var bound = socket.VmciLastEndpoint();
        Assert.Throws<InvalidException>(() => socket.VmciBind("vmci://*:x"));
        Assert.Equal(bound, socket.VmciLastEndpoint());
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
        var e = Assert.Throws<InvalidException>(() => socket.VmciBind(endpoint));
        AssertCarries(e, Errno.EINVAL, $"'{endpoint}'");
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_NonLocalCid_ThrowsAddressNotAvailable()
    {
        var socket = _fabric.Socket(new PairSocket());
        var e = Assert.ThrowsAny<NetMQException>(() => socket.VmciBind("vmci://7:*"));
        Assert.Equal(ErrorCode.AddressNotAvailable, e.ErrorCode);
        AssertCarries(e, Errno.EADDRNOTAVAIL, "bind 'vmci://7:*'");
    }

    [Theory]
    [InlineData("VMCI://*:*")]
    [InlineData("vsock://2:1")]
    public void Bind_OtherScheme_IsNetMQsOwnProtocolNotSupported(string endpoint)
    {
        var socket = _fabric.Socket(new PairSocket());
        Assert.Throws<ProtocolNotSupportedException>(() => socket.VmciBind(endpoint));
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
        Fabric.Bounce(server, client);
        var relay = Vmci.Transport.Internal.SocketState.Find(server)!.FindBind(bound)!;
        Assert.Equal(1, relay.ConnectionCount);
        var connect = Vmci.Transport.Internal.SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();
        server.VmciUnbind(bound);
        Fabric.WaitUntil(() => relay.ConnectionCount == 0, "the server dropped the accepted connection");
        Fabric.WaitUntil(() => connect.ConnectionCount == 0, "the client's side of the dropped connection closed");
    }

    internal static void AssertCarries(NetMQException e, Errno errno, string text)
    {
        var inner = Assert.IsType<VmciException>(e.InnerException);
        Assert.Equal(errno, inner.Errno);
        Assert.Contains(errno.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
    }
}
