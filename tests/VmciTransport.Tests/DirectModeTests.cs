using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;
using Vmci.Transport.Internal.Direct;

namespace Vmci.Transport.Tests;

/// <summary>
/// Direct mode (issue #14): the self-check, how the mode is chosen, no TCP listener, NetMQ's own LAST_ENDPOINT, and the
/// SPEC §8 rules that are easiest to see from inside (single-connect types, the port after unbind/dispose) — each in
/// both modes where both apply.
/// </summary>
public sealed class DirectModeTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    public static TheoryData<VmciTransportMode> Modes => [VmciTransportMode.Direct, VmciTransportMode.Relay];

    private T Socket<T>(T socket, VmciTransportMode mode, IVsockNetwork? network = null) where T : NetMQSocket
    {
        _fabric.Socket(socket, network);
        socket.VmciOptions().TransportMode = mode;
        return socket;
    }

    [Fact]
    public void SelfCheck_PinnedNetMQAndAsyncIO_DirectModeAvailable()
    {
        Assert.True(VmciTransport.IsDirectModeAvailable, VmciTransport.DirectModeUnavailableReason);
        Assert.Null(VmciTransport.DirectModeUnavailableReason);
        Assert.Equal(NetMQInternals.NetMQVersion, typeof(NetMQSocket).Assembly.GetName().Version);
    }

    [Theory]
    [InlineData(null, VmciTransportMode.Direct)]
    [InlineData("", VmciTransportMode.Direct)]
    [InlineData("direct", VmciTransportMode.Direct)]
    [InlineData("relay", VmciTransportMode.Relay)]
    public void Settings_TransportModeVariable_Parsed(string? value, VmciTransportMode expected)
    {
        var settings = VmciSettings.FromEnvironment(name => name == VmciSettings.TransportModeVariable ? value : null);
        Assert.Equal(expected, settings.TransportMode);
    }

    [Theory]
    [InlineData("Direct")]
    [InlineData("tcp")]
    [InlineData("direct ")]
    public void Settings_TransportModeVariable_MalformedIsEinvalNamingIt(string value)
    {
        var e = Assert.Throws<VmciException>(() => VmciSettings.FromEnvironment(name => name == VmciSettings.TransportModeVariable ? value : null));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains($"VMCI_TRANSPORT_MODE={value}", e.Message, StringComparison.Ordinal);
        Assert.Contains("'direct'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Bind_PerSocketMode_IsTheEndpointsMode(VmciTransportMode mode)
    {
        var server = Socket(new PairSocket(), mode);
        server.VmciBind("vmci://*:*");
        Assert.Equal(mode, SocketState.Find(server)!.FindBind(server.VmciLastEndpoint()!)!.Mode);
    }

    [Theory]
    [InlineData("DEALER", 1)]
    [InlineData("SUB", 1)]
    [InlineData("PUB", 1)]
    [InlineData("REQ", 1)]
    [InlineData("PUSH", 2)]
    [InlineData("PAIR", 2)]
    [InlineData("ROUTER", 2)]
    public void Connect_SameStringTwice_SingleConnectTypesKeepOne(string type, int expected)
    {
        foreach (var mode in new[] { VmciTransportMode.Direct, VmciTransportMode.Relay })
        {
            var client = Socket(Create(type), mode);
            client.VmciConnect("vmci://2:7010");
            client.VmciConnect("vmci://2:7010");
            client.VmciConnect("vmci://2:07010"); // another string: always its own connect
            Assert.Equal(expected, SocketState.Find(client)!.FindConnects("vmci://2:7010").Length);
            Assert.Single(SocketState.Find(client)!.FindConnects("vmci://2:07010"));
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Unbind_PortFreeOnReturn_RawListenerCanBindIt(VmciTransportMode mode)
    {
        var server = Socket(new PullSocket(), mode);
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        server.VmciUnbind(bound);
        using var raw = _fabric.Host.Listen(new VsockAddress(VmciCid.Any, uint.Parse(bound[(bound.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture)));
        Assert.Equal(bound, raw.LocalAddress.ToString());
    }

    [Fact]
    public void Dispose_ConnectThatNeverSucceeds_StopsWhenTheLingerEnds()
    {
        var probe = Socket(new PullSocket(), VmciTransportMode.Direct);
        probe.VmciBind("vmci://*:*");
        var bound = probe.VmciLastEndpoint()!;
        probe.VmciUnbind(bound); // nobody listens there now
        var client = Socket(new PushSocket(), VmciTransportMode.Direct, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("never delivered");
        var connect = (Internal.Direct.DirectConnect)SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single();
        client.Options.Linger = TimeSpan.FromSeconds(2);

        client.Dispose();

        Assert.False(connect.IsStopped, "stopped before its linger ended");
        _fabric.Watchdog.Until(() => connect.IsStopped, "the connect stopped once the linger had passed");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dispose_BoundSocket_ImmediateRebindInThisProcessSucceeds(VmciTransportMode mode)
    {
        var first = Socket(new PullSocket(), mode);
        first.VmciBind("vmci://*:*");
        var bound = first.VmciLastEndpoint()!;
        first.VmciUnbind(bound);
        first.VmciBind(bound);
        first.Dispose();
        for (var i = 1; i < 20; i++)
        {
            var server = Socket(new PullSocket(), mode);
            server.VmciBind(bound);
            server.Dispose();
        }
        var again = Socket(new PullSocket(), mode);
        again.VmciBind(bound);
        var client = Socket(new PushSocket(), mode, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("after 20 rebinds");
        Assert.Equal("after 20 rebinds", Delivery.ReceiveString(again));
    }

    [Fact]
    public void Options_InvalidConnectTimeout_SameRefusalByPropertyAndById()
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        var byId = Assert.Throws<InvalidException>(() => options[VmciSocketOption.ConnectTimeout] = -2);
        var byProperty = Assert.Throws<InvalidException>(() => options.ConnectTimeout = TimeSpan.FromMilliseconds(-2));
        Assert.Equal(Errno.EINVAL, ((VmciException)byProperty.InnerException!).Errno);
        Assert.Equal(byId.Message.Split(": ")[^1], byProperty.Message.Split(": ")[^1]);
        options.ConnectTimeout = Timeout.InfiniteTimeSpan; // -1 ms: the kernel default, as id -1
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
        Assert.Throws<InvalidException>(() => options.MaxConnections = 0);
        Assert.Throws<InvalidException>(() => options.HandshakeTimeout = TimeSpan.FromMilliseconds(-1));
        Assert.Equal(VmciSocketOptions.DefaultMaxConnections, options.MaxConnections);
    }

    private static NetMQSocket Create(string type) => type switch
    {
        "DEALER" => new DealerSocket(),
        "SUB" => new SubscriberSocket(),
        "PUB" => new PublisherSocket(),
        "REQ" => new RequestSocket(),
        "PUSH" => new PushSocket(),
        "PAIR" => new PairSocket(),
        _ => new RouterSocket(),
    };
}

/// <summary>Containment: what happens when the self-check fails (simulated: the real one passes here).</summary>
public sealed class FallbackTests
{
    [Fact]
    public void Resolver_SelfCheckFailed_RelayWithOneLogLine()
    {
        var lines = new List<string>();
        var resolver = new ModeResolver(() => "NetMQ 4.0.4.6 is loaded; direct mode was built and checked against NetMQ 4.0.4.5", lines.Add);
        Assert.Equal(VmciTransportMode.Relay, resolver.Resolve(VmciTransportMode.Direct));
        Assert.Equal(VmciTransportMode.Relay, resolver.Resolve(VmciTransportMode.Direct));
        Assert.Equal(VmciTransportMode.Relay, resolver.Resolve(VmciTransportMode.Relay));
        var reason = Assert.Single(lines);
        Assert.StartsWith("NetMQ 4.0.4.6 is loaded", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolver_SelfCheckPassed_ModeAsRequested_NothingLogged()
    {
        var lines = new List<string>();
        var resolver = new ModeResolver(() => null, lines.Add);
        Assert.Equal(VmciTransportMode.Direct, resolver.Resolve(VmciTransportMode.Direct));
        Assert.Equal(VmciTransportMode.Relay, resolver.Resolve(VmciTransportMode.Relay));
        Assert.Empty(lines);
    }

    [Theory]
    [InlineData("4.0.4.5", null)]
    [InlineData("4.0.4.6", "NetMQ 4.0.4.6 is loaded; direct mode was built and checked against NetMQ 4.0.4.5")]
    [InlineData("4.1.0.0", "NetMQ 4.1.0.0 is loaded; direct mode was built and checked against NetMQ 4.0.4.5")]
    public void SelfCheck_VersionOtherThanPinned_Refused(string loaded, string? expected) =>
        Assert.Equal(expected, Internal.Direct.NetMQInternals.VersionMismatch("NetMQ", Version.Parse(loaded), Internal.Direct.NetMQInternals.NetMQVersion));
}
