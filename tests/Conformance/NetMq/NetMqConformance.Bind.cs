using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>SPEC §2: bind, LAST_ENDPOINT, EADDRINUSE.</summary>
public abstract partial class NetMqConformance
{
    [Fact]
    [Trait("Spec", "§2")]
    public void LastEndpoint_BeforeBindOrConnect_IsEmpty()
    {
        var socket = Socket("PAIR");
        Assert.True(string.IsNullOrEmpty(socket.VmciLastEndpoint()));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_AnyCidAnyPort_FillsInPortKeepsStar()
    {
        var bound = BindAny(Socket("PAIR"));
        Assert.Matches("^vmci://\\*:[1-9][0-9]*$", bound);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_AtCid_ReportsLocalCidNumber()
    {
        var socket = Socket("PAIR");
        socket.VmciBind("vmci://@:*");
        Assert.StartsWith(Endpoint(LocalCid, 0)[..^1], socket.VmciLastEndpoint(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_LocalCidNumber_ReportsIt()
    {
        var socket = Socket("PAIR");
        socket.VmciBind(Endpoint(LocalCid, uint.MaxValue));
        Assert.Matches($"^vmci://{LocalCid}:[0-9]+$", socket.VmciLastEndpoint()!);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_PortWithLeadingZeros_ReportsCanonicalPort()
    {
        var socket = Socket("PAIR");
        var port = FreePort();
        socket.VmciBind($"vmci://*:000{port}");
        Assert.Equal(Endpoint(0, port).Replace("vmci://0:", "vmci://*:", StringComparison.Ordinal), socket.VmciLastEndpoint());
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_ExplicitPort_ReportsThatPort()
    {
        var socket = Socket("PAIR");
        var port = FreePort();
        socket.VmciBind(Endpoint(LocalCid, port));
        Assert.Equal(Endpoint(LocalCid, port), socket.VmciLastEndpoint());
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_FailedAfterSuccess_LeavesLastEndpointUnchanged()
    {
        var socket = Socket("PAIR");
        var bound = BindAny(socket);
        Assert.Throws<AddressAlreadyInUseException>(() => socket.VmciBind(bound));
        Assert.Equal(bound, socket.VmciLastEndpoint());
        Assert.Throws<InvalidException>(() => socket.VmciBind("vmci://*:x"));
        Assert.Equal(bound, socket.VmciLastEndpoint());
        Assert.ThrowsAny<NetMQException>(() => socket.VmciBind(Endpoint(OtherCid, uint.MaxValue)));
        Assert.Equal(bound, socket.VmciLastEndpoint());
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_SamePortTwiceOnOneSocket_ThrowsAddressInUse()
    {
        var socket = Socket("PAIR");
        var bound = BindAny(socket);
        VmciAssert.ThrowsNetMq<AddressAlreadyInUseException>(Errno.EADDRINUSE, () => socket.VmciBind(bound));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_SamePortOnTwoSockets_ThrowsAddressInUse()
    {
        var bound = BindAny(Socket("PAIR"));
        var other = Socket("PAIR");
        VmciAssert.ThrowsNetMq<AddressAlreadyInUseException>(Errno.EADDRINUSE, () => other.VmciBind(bound));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_SpecificCidAfterAnyOnSamePort_ThrowsAddressInUse()
    {
        var bound = BindAny(Socket("PAIR"));
        var other = Socket("PAIR");
        VmciAssert.ThrowsNetMq<AddressAlreadyInUseException>(Errno.EADDRINUSE, () => other.VmciBind(Endpoint(LocalCid, PortOf(bound))));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_AnyCidAfterSpecificOnSamePort_ThrowsAddressInUse()
    {
        var first = Socket("PAIR");
        first.VmciBind("vmci://@:*");
        var port = PortOf(first.VmciLastEndpoint()!);
        var other = Socket("PAIR");
        VmciAssert.ThrowsNetMq<AddressAlreadyInUseException>(Errno.EADDRINUSE, () => other.VmciBind($"vmci://*:{port}"));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_ForeignCid_ThrowsAddressNotAvailable()
    {
        var socket = Socket("PAIR");
        var e = Assert.ThrowsAny<NetMQException>(() => socket.VmciBind(Endpoint(OtherCid, uint.MaxValue)));
        Assert.Equal(ErrorCode.AddressNotAvailable, e.ErrorCode);
        Assert.Equal(Errno.EADDRNOTAVAIL, Assert.IsType<VmciException>(e.InnerException).Errno);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_ReservedPort_FollowsPrivilege()
    {
        var socket = Socket("PAIR");
        // A port ≤ 1023 another test might hold: try a few, an EADDRINUSE only means "taken, try the next".
        for (var port = 1000u; port > 900; port -= 7)
        {
            try
            {
                socket.VmciBind($"vmci://*:{port}");
                Assert.True(CanBindReservedPorts, $"bind of reserved port {port} succeeded without the privilege");
                Assert.Equal($"vmci://*:{port}", socket.VmciLastEndpoint());
                return;
            }
            catch (AddressAlreadyInUseException)
            {
            }
            catch (NetMQException e) when (e.ErrorCode == ErrorCode.AccessDenied)
            {
                Assert.False(CanBindReservedPorts, $"EACCES with the privilege: {e.Message}");
                return;
            }
        }
        Assert.Fail("every reserved port tried was in use");
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Bind_TwoEndpointsOnOneSocket_BothReachable()
    {
        var server = Socket("PULL");
        var first = BindAny(server);
        var second = BindAny(server);
        Assert.NotEqual(first, second);
        Assert.Equal(second, server.VmciLastEndpoint());
        var a = Socket("PUSH");
        a.VmciConnect(Target(first));
        var b = Socket("PUSH");
        b.VmciConnect(Target(second));
        Bounce.Check(server, a);
        Bounce.Check(server, b);
    }
}
