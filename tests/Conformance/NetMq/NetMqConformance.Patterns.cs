using NetMQ;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>SPEC §1 ("every socket type"), §3: every NetMQ pattern over vmci, libzmq's bounce, multipart, 1 MiB.</summary>
public abstract partial class NetMqConformance
{
    [Theory]
    [InlineData("PAIR", "PAIR")]
    [InlineData("REP", "REQ")]
    [InlineData("ROUTER", "DEALER")]
    [InlineData("REP", "DEALER")]
    [InlineData("ROUTER", "REQ")]
    [InlineData("DEALER", "DEALER")]
    [InlineData("PUB", "SUB")]
    [InlineData("XPUB", "XSUB")]
    [InlineData("XPUB", "SUB")]
    [InlineData("PULL", "PUSH")]
    [Trait("Spec", "§3")]
    public void Pattern_BindServerConnectClient_Bounces(string server, string client)
    {
        var s = Socket(server);
        var c = Socket(client);
        Link(s, c);
        Bounce.Check(s, c);
        if (server is not ("PUB" or "XPUB"))
            Bounce.Check(s, c);
    }

    [Theory]
    [InlineData("PAIR", "PAIR")]
    [InlineData("REP", "REQ")]
    [InlineData("ROUTER", "DEALER")]
    [InlineData("PULL", "PUSH")]
    [InlineData("PUB", "SUB")]
    [Trait("Spec", "§3")]
    public void Pattern_ConnectServerBindClient_Bounces(string server, string client)
    {
        // The roles are independent of who binds: the server connects, the client binds.
        var s = Socket(server);
        var c = Socket(client);
        var bound = BindAny(c);
        s.VmciConnect(Target(bound));
        Bounce.Check(s, c);
    }

    [Fact]
    [Trait("Spec", "§3")]
    public void Pattern_Multipart_TenFramesKeepOrderAndBoundaries()
    {
        var server = Socket("PAIR");
        var client = Socket("PAIR");
        Link(server, client);
        var message = new NetMQMessage();
        for (var i = 0; i < 10; i++)
            message.Append(new string((char)('a' + i), i));
        client.SendMultipartMessage(message);
        var received = Delivery.Receive(server);
        Assert.Equal(10, received.FrameCount);
        for (var i = 0; i < 10; i++)
            Assert.Equal(new string((char)('a' + i), i), received[i].ConvertToString());
    }

    [Fact]
    [Trait("Spec", "§3")]
    public void Pattern_OneMebibyteMessage_ArrivesIntactBothWays()
    {
        var server = Socket("PAIR");
        var client = Socket("PAIR");
        Link(server, client);
        var payload = VsockStreams.Payload(1 << 20, 7);
        client.SendFrame(payload);
        Assert.True(server.TryReceiveFrameBytes(Watchdog.DefaultTimeout, out var received), "no 1 MiB message within the watchdog");
        Assert.Equal(payload, received);
        server.SendFrame(received!);
        Assert.True(client.TryReceiveFrameBytes(Watchdog.DefaultTimeout, out var echoed), "no 1 MiB echo within the watchdog");
        Assert.Equal(payload, echoed);
    }

    [Fact]
    [Trait("Spec", "§3")]
    public void Pattern_ManyMessages_ArriveInOrder()
    {
        var server = Socket("PULL");
        var client = Socket("PUSH");
        Link(server, client);
        for (var i = 0; i < 200; i++)
            client.SendFrame(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 0; i < 200; i++)
        {
            Assert.True(server.TryReceiveFrameString(Watchdog.DefaultTimeout, out var text), $"message {i} missing");
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
        }
    }

    [Fact]
    [Trait("Spec", "§3")]
    public void Pattern_RouterWithTwoDealers_RoutesByIdentity()
    {
        var router = Socket("ROUTER");
        var bound = BindAny(router);
        var alice = Socket("DEALER");
        alice.Options.Identity = "alice"u8.ToArray();
        alice.VmciConnect(Target(bound));
        var bob = Socket("DEALER");
        bob.Options.Identity = "bob"u8.ToArray();
        bob.VmciConnect(Target(bound));
        alice.SendFrame("alice");
        bob.SendFrame("bob");
        for (var i = 0; i < 2; i++)
        {
            var m = Delivery.Receive(router);
            Assert.Equal(m[0].ConvertToString(), m[1].ConvertToString());
            router.SendMoreFrame(m[0].ToByteArray()).SendFrame("to " + m[1].ConvertToString());
        }
        Assert.True(alice.TryReceiveFrameString(Watchdog.DefaultTimeout, out var a));
        Assert.Equal("to alice", a);
        Assert.True(bob.TryReceiveFrameString(Watchdog.DefaultTimeout, out var b));
        Assert.Equal("to bob", b);
    }
}
