using NetMQ;
using NetMQ.Sockets;

namespace Vmci.TestKit;

/// <summary>
/// libzmq's <c>bounce</c> (tests/testutil.cpp): the smoke test of a connected pair of sockets. Two frames of
/// <see cref="Content"/> go from the client to the server and back unchanged, checked on both sides, envelope
/// included. One-way patterns are checked in the one direction they carry.
/// </summary>
public static class Bounce
{
    /// <summary>The payload of both frames (libzmq's).</summary>
    public const string Content = "12345678ABCDEFGH12345678abcdefgh";

    /// <summary>
    /// Bounces two frames between <paramref name="server"/> and <paramref name="client"/>. PUB/XPUB → SUB/XSUB: published
    /// until the subscription has arrived, then checked at the subscriber. PUSH → PULL: checked at the PULL. DEALER →
    /// REP: with the empty delimiter frame REP expects. Every message must have exactly the frames the pattern gives it.
    /// </summary>
    /// <param name="server">The socket that receives first (usually the one that bound).</param>
    /// <param name="client">The socket that sends first.</param>
    /// <param name="timeout">How long each receive may wait, or null for the default.</param>
    /// <remarks>The timeout defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    /// <exception cref="VmciAssertionException">A message did not arrive, or arrived changed.</exception>
    public static void Check(NetMQSocket server, NetMQSocket client, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(client);
        var limit = timeout ?? Watchdog.DefaultTimeout;
        if (server is PublisherSocket or XPublisherSocket)
        {
            Publish(server, client, limit);
            return;
        }
        var delimited = client is DealerSocket && server is ResponseSocket;
        var outgoing = new NetMQMessage();
        if (delimited)
            outgoing.AppendEmptyFrame();
        outgoing.Append(Content);
        outgoing.Append(Content);
        Send("the client", client, outgoing, limit);

        // A ROUTER prefixes the peer's identity, and keeps a REQ's empty delimiter; REP and REQ strip their envelopes.
        var atServer = Delivery.Receive(server, limit);
        var serverEnvelope = server is RouterSocket ? 1 + (client is RequestSocket ? 1 : 0) : 0;
        CheckContent("the server", atServer, serverEnvelope);
        if (server is PullSocket)
            return;
        Send("the server", server, atServer, limit);
        CheckContent("the client", Delivery.Receive(client, limit), delimited ? 1 : 0);
    }

    private static void Publish(NetMQSocket publisher, NetMQSocket subscriber, TimeSpan limit)
    {
        if (subscriber is XSubscriberSocket xsub)
            xsub.SendFrame([1]);
        else if (subscriber is SubscriberSocket sub)
            sub.SubscribeToAnyTopic();
        if (publisher is XPublisherSocket)
        {
            // The subscription arriving is the event that makes the next publication deliverable.
            var subscription = Delivery.Receive(publisher, limit);
            if (subscription.FrameCount != 1 || !subscription[0].ToByteArray().AsSpan().SequenceEqual([(byte)1]))
                throw new VmciAssertionException($"expected the subscription [1], got {Describe(subscription)}");
        }
        // A plain PUB drops what it publishes before the subscription arrives, and says nothing: publish until it lands.
        var deadline = DateTime.UtcNow + limit;
        NetMQMessage? received = null;
        while (received is null)
        {
            if (DateTime.UtcNow >= deadline)
                throw new VmciAssertionException(FormattableString.Invariant($"the subscriber received nothing within {limit.TotalSeconds:0.###} s"));
            publisher.SendMoreFrame(Content).SendFrame(Content);
            subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(50), ref received);
        }
        CheckContent("the subscriber", received, 0);
    }

    private static void Send(string who, NetMQSocket socket, NetMQMessage message, TimeSpan limit)
    {
        // A socket with no peer yet (PAIR, REQ, DEALER, PUSH) blocks a send: that, too, must end at the timeout.
        if (!socket.TrySendMultipartMessage(limit, message))
            throw new VmciAssertionException(FormattableString.Invariant($"{who} could not send within {limit.TotalSeconds:0.###} s (no peer connected)"));
    }

    private static void CheckContent(string where, NetMQMessage message, int envelope)
    {
        if (message.FrameCount != envelope + 2
            || message[envelope].ConvertToString() != Content || message[envelope + 1].ConvertToString() != Content)
            throw new VmciAssertionException($"{where} expected {envelope} envelope frame(s) and two frames of '{Content}', got {Describe(message)}");
    }

    private static string Describe(NetMQMessage message) =>
        $"{message.FrameCount} frame(s): [{string.Join(", ", message.Select(f => $"'{f.ConvertToString()}'"))}]";
}
