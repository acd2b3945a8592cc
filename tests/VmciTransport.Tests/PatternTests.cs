using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>Every NetMQ pattern over vmci, multipart, a 16 MiB message, CURVE.</summary>
public sealed class PatternTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void DealerRouter_IdentitiesPreservedPerPeer()
    {
        var router = _fabric.Socket(new RouterSocket());
        router.VmciBind("vmci://*:*");
        var target = Fabric.ToHost(router.VmciLastEndpoint()!);
        var alice = _fabric.Socket(new DealerSocket(), _fabric.Guest);
        alice.Options.Identity = "alice"u8.ToArray();
        alice.VmciConnect(target);
        var bob = _fabric.Socket(new DealerSocket(), _fabric.Sim.Join(4));
        bob.Options.Identity = "bob"u8.ToArray();
        bob.VmciConnect(target);

        alice.SendMoreFrame("from").SendFrame("alice");
        bob.SendMoreFrame("from").SendFrame("bob");
        for (var i = 0; i < 2; i++)
        {
            var m = Delivery.Receive(router);
            Assert.Equal(3, m.FrameCount);
            Assert.Equal(m[0].ConvertToString(), m[2].ConvertToString());
            router.SendMoreFrame(m[0].ToByteArray()).SendFrame("to " + m[0].ConvertToString());
        }
        Assert.Equal("to alice", Delivery.ReceiveString(alice));
        Assert.Equal("to bob", Delivery.ReceiveString(bob));
    }

    [Fact]
    public void PubSub_SubscriptionsFilter_AndSurviveReconnect()
    {
        var pub = _fabric.Socket(new PublisherSocket());
        pub.VmciBind("vmci://*:*");
        var bound = pub.VmciLastEndpoint()!;
        var sub = _fabric.Socket(new SubscriberSocket(), _fabric.Guest);
        sub.Options.ReconnectInterval = TimeSpan.FromMilliseconds(20);
        sub.Subscribe("news");
        sub.VmciConnect(Fabric.ToHost(bound));
        AssertDelivered(pub, sub);

        // The publisher goes away and comes back on the same port: the subscriber reconnects and resubscribes.
        pub.VmciUnbind(bound);
        var pub2 = _fabric.Socket(new PublisherSocket());
        pub2.VmciBind(bound);
        AssertDelivered(pub2, sub);
    }

    [Fact]
    public void XPubXSub_SubscriptionMessagesArrive_BothWays()
    {
        // Resubscription after a reconnect is covered by PubSub_SubscriptionsFilter_AndSurviveReconnect. A raw XSUB
        // whose XPUB was replaced gets no resent subscription in NetMQ 4.0.4.5 over plain tcp either (observed), so
        // that is NetMQ's behaviour, not the transport's; it is not asserted here.
        var xpub = _fabric.Socket(new XPublisherSocket());
        var xsub = _fabric.Socket(new XSubscriberSocket());
        _fabric.Link(xpub, xsub);
        xsub.SendFrame([1, (byte)'t']);
        Assert.Equal(new byte[] { 1, (byte)'t' }, Delivery.Receive(xpub)[0].ToByteArray());
        xpub.SendFrame("topic");
        Assert.Equal("topic", Delivery.ReceiveString(xsub));
        xsub.SendFrame([0, (byte)'t']);
        Assert.Equal(new byte[] { 0, (byte)'t' }, Delivery.Receive(xpub)[0].ToByteArray());
    }

    [Fact]
    public void PushPull_OneConnectionPerPeer_AllDelivered()
    {
        var pull = _fabric.Socket(new PullSocket());
        pull.VmciBind("vmci://*:*");
        var target = Fabric.ToHost(pull.VmciLastEndpoint()!);
        var pushers = Enumerable.Range(0, 3).Select(i =>
        {
            var p = _fabric.Socket(new PushSocket(), _fabric.Sim.Join((uint)(3 + i)));
            p.VmciConnect(target);
            return p;
        }).ToList();
        // Make sure every pusher is connected before the burst.
        for (var i = 0; i < pushers.Count; i++)
        {
            pushers[i].SendFrame("hello");
            Assert.Equal("hello", Delivery.ReceiveString(pull));
        }
        for (var round = 0; round < 10; round++)
            for (var i = 0; i < pushers.Count; i++)
                pushers[i].SendFrame(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var received = Enumerable.Range(0, 30).Select(_ => Delivery.ReceiveString(pull)).ToList();
        // Every peer has its own connection (one vsock connection, one loopback connection, one NetMQ pipe), which is
        // what NetMQ's fair queueing works on; each peer's messages keep their order.
        Assert.Equal(3, Vmci.Transport.Internal.SocketState.Find(pull)!.FindBind(pull.VmciLastEndpoint()!)!.ConnectionCount);
        Assert.All(received.GroupBy(m => m), g => Assert.Equal(10, g.Count()));
    }

    [Fact]
    public void Multipart_ManyFrames_ArriveTogether()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        _fabric.Link(server, client);
        var message = new NetMQMessage();
        for (var i = 0; i < 50; i++)
            message.Append(new byte[i]);
        client.SendMultipartMessage(message);
        var received = Delivery.Receive(server);
        Assert.Equal(Enumerable.Range(0, 50), received.Select(f => f.MessageSize));
    }

    [Fact]
    public void SixteenMiB_Message_ArrivesIntact()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        _fabric.Link(server, client);
        var payload = new byte[16 * 1024 * 1024];
        new Random(42).NextBytes(payload);
        client.SendFrame(payload);
        Assert.True(server.TryReceiveFrameBytes(Watchdog.DefaultTimeout, out var received));
        Assert.True(payload.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public void Curve_EndToEnd_Works()
    {
        var serverKey = new NetMQCertificate();
        var server = _fabric.Socket(new PairSocket());
        server.Options.CurveServer = true;
        server.Options.CurveCertificate = serverKey;
        var client = _fabric.Socket(new PairSocket());
        client.Options.CurveServerKey = serverKey.PublicKey;
        client.Options.CurveCertificate = new NetMQCertificate();
        _fabric.Link(server, client);
        Bounce.Check(server, client);
    }

    private static void AssertDelivered(PublisherSocket pub, SubscriberSocket sub)
    {
        // PUB drops messages until the subscription has arrived; publish until one gets through.
        var deadline = DateTime.UtcNow + Watchdog.DefaultTimeout;
        while (true)
        {
            pub.SendMoreFrame("sports").SendFrame("ignored");
            pub.SendMoreFrame("news").SendFrame("delivered");
            if (sub.TryReceiveFrameString(TimeSpan.FromMilliseconds(50), out var topic))
            {
                Assert.Equal("news", topic);
                Assert.Equal("delivered", Delivery.ReceiveString(sub));
                while (sub.TryReceiveFrameString(TimeSpan.Zero, out _))
                {
                }
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "no publication arrived");
        }
    }
}
