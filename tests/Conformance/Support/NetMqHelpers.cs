using NetMQ;
using NetMQ.Sockets;

namespace Conformance.Support;

/// <summary>NetMQ helpers shared by the NetMQ conformance layer: libzmq's bounce and receives with a watchdog.</summary>
public static class NetMqHelpers
{
    /// <summary>How long one receive may wait before the test fails (generous: the guest runs under TCG).</summary>
    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The payload of both frames of a bounce (libzmq's tests/testutil.cpp).</summary>
    public const string Content = "12345678ABCDEFGH12345678abcdefgh";

    /// <summary>
    /// libzmq's bounce: two frames of <see cref="Content"/> from <paramref name="client"/> to <paramref name="server"/>,
    /// echoed back unchanged (envelope included), checked on both sides. One-way patterns are checked in the direction
    /// they carry: PUB/XPUB → SUB/XSUB (published until the subscription has arrived), PUSH → PULL.
    /// </summary>
    public static void Bounce(NetMQSocket server, NetMQSocket client)
    {
        if (server is PublisherSocket or XPublisherSocket)
        {
            Publish(server, client);
            return;
        }
        var envelope = client is DealerSocket && server is ResponseSocket;
        var outgoing = new NetMQMessage();
        if (envelope)
            outgoing.AppendEmptyFrame();
        outgoing.Append(Content);
        outgoing.Append(Content);
        client.SendMultipartMessage(outgoing);
        var received = Receive(server);
        AssertEndsWithContent(received);
        if (server is PullSocket)
            return;
        server.SendMultipartMessage(received);
        AssertEndsWithContent(Receive(client));
    }

    /// <summary>Receives one multipart message or fails after <see cref="ReceiveTimeout"/>.</summary>
    public static NetMQMessage Receive(NetMQSocket socket, TimeSpan? timeout = null)
    {
        NetMQMessage? message = null;
        Assert.True(socket.TryReceiveMultipartMessage(timeout ?? ReceiveTimeout, ref message), "no message arrived within the watchdog");
        return message!;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <see cref="ReceiveTimeout"/>.</summary>
    public static void WaitUntil(Func<bool> condition, string what)
    {
        var ct = TestContext.Current.CancellationToken;
        var deadline = DateTime.UtcNow + ReceiveTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            ct.ThrowIfCancellationRequested();
            ct.WaitHandle.WaitOne(10);
        }
    }

    /// <summary>
    /// Sends <paramref name="text"/> from <paramref name="sender"/> every 50 ms until <paramref name="receiver"/> gets it
    /// (for paths that are being re-established: a message sent into a dying connection is lost, as over tcp).
    /// </summary>
    public static void DeliverEventually(NetMQSocket sender, NetMQSocket receiver, string text)
    {
        var deadline = DateTime.UtcNow + ReceiveTimeout;
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' was not delivered within the watchdog");
            sender.TrySendFrame(TimeSpan.FromMilliseconds(50), text);
            if (receiver.TryReceiveFrameString(TimeSpan.FromMilliseconds(50), out var got))
            {
                Assert.Equal(text, got);
                return;
            }
        }
    }

    private static void Publish(NetMQSocket publisher, NetMQSocket subscriber)
    {
        if (subscriber is XSubscriberSocket xsub)
            xsub.SendFrame([1]);
        else if (subscriber is SubscriberSocket sub)
            sub.SubscribeToAnyTopic();
        if (publisher is XPublisherSocket xpub)
        {
            // The subscription arriving is the event that makes the next publication deliverable.
            var subscription = Receive(xpub);
            Assert.Equal([1], subscription[0].ToByteArray());
        }
        var deadline = DateTime.UtcNow + ReceiveTimeout;
        NetMQMessage? received = null;
        while (received is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the subscriber received nothing within the watchdog");
            publisher.SendMoreFrame(Content).SendFrame(Content);
            subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(50), ref received);
        }
        AssertEndsWithContent(received);
    }

    private static void AssertEndsWithContent(NetMQMessage message)
    {
        Assert.True(message.FrameCount >= 2, $"expected at least 2 frames, got {message.FrameCount}");
        Assert.Equal(Content, message[message.FrameCount - 2].ConvertToString());
        Assert.Equal(Content, message[message.FrameCount - 1].ConvertToString());
    }
}
