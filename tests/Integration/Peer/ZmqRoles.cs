using System.Globalization;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.Transport;

namespace Integration.Peer;

/// <summary>
/// The ZeroMQ roles of the scenarios over <c>vmci://</c>, shared by the peers (<see cref="ZmqPeer"/>) and the
/// host (the test). Messages are decimal numbers (sequence numbers). Every loop polls in short steps so
/// that <c>stop</c> (a graceful end: SIGTERM, or the test's own end) and <c>ct</c> (the watchdog: an error)
/// are seen; NetMQ sockets stay on the thread that runs the role.
/// </summary>
public static class ZmqRoles
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    /// <summary>Creates a NetMQ socket of <paramref name="type"/> on <paramref name="network"/>, then binds or connects it.</summary>
    /// <param name="type">req, rep, pub, xpub, sub, push, pull, router or dealer.</param>
    /// <param name="network">The vsock backend (the machine's view of the fabric).</param>
    /// <param name="bind">Whether to bind (else connect).</param>
    /// <param name="endpoint">A vmci:// endpoint (<c>vmci://*:*</c> to bind any port).</param>
    /// <param name="identity">The routing identity (DEALER), or null.</param>
    /// <returns>The socket; LAST_ENDPOINT (<see cref="VmciSocketExtensions.VmciLastEndpoint"/>) tells the bound address.</returns>
    public static NetMQSocket Open(string type, IVsockNetwork network, bool bind, string endpoint, string? identity = null)
    {
        NetMQSocket socket = type switch
        {
            "req" => new RequestSocket(),
            "rep" => new ResponseSocket(),
            "xpub" => new XPublisherSocket(),
            "sub" => new SubscriberSocket(),
            "push" => new PushSocket(),
            "pull" => new PullSocket(),
            "router" => new RouterSocket(),
            "dealer" => new DealerSocket(),
            _ => throw new ArgumentException($"unknown socket type '{type}'", nameof(type)),
        };
        try
        {
            socket.Options.Linger = TimeSpan.FromSeconds(5);
            socket.Options.SendHighWatermark = 0;
            socket.Options.ReceiveHighWatermark = 0;
            socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(100);
            if (identity is not null)
            {
                socket.Options.Identity = Encoding.UTF8.GetBytes(identity);
            }

            socket.VmciOptions().Network = network;
            if (bind)
            {
                socket.VmciBind(endpoint);
            }
            else
            {
                socket.VmciConnect(endpoint);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The address other machines reach the socket at: LAST_ENDPOINT, whose CID is <c>*</c> after a bind to
    /// <c>vmci://*:*</c> (as libzmq reports <c>tcp://0.0.0.0:PORT</c>), with <paramref name="cid"/> filled in.
    /// </summary>
    /// <param name="socket">A bound or connected socket.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <returns>For example <c>vmci://3:1234</c>.</returns>
    public static string Reachable(NetMQSocket socket, uint cid)
    {
        var last = VmciEndpoint.Parse(socket.VmciLastEndpoint() ?? throw new InvalidOperationException("the socket is neither bound nor connected"));
        return (last.Cid == VmciCid.Any ? VmciEndpoint.For(cid, last.Port) : last).ToString();
    }

    /// <summary>REP (or ROUTER): answers every request with its own body until <paramref name="count"/> (0: until stopped).</summary>
    /// <param name="socket">A REP or ROUTER socket.</param>
    /// <param name="cid">This machine's CID (for the result).</param>
    /// <param name="count">Requests to answer; 0 for no limit.</param>
    /// <param name="stop">Ends the loop gracefully.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>The requests seen (and, for a ROUTER, per identity).</returns>
    public static PeerResult Echo(NetMQSocket socket, uint cid, int count, CancellationToken stop, CancellationToken ct)
    {
        var router = socket is RouterSocket;
        var seqs = new List<long>();
        var identities = new Dictionary<string, int>(StringComparer.Ordinal);
        while (count == 0 || seqs.Count < count)
        {
            if (Receive(socket, stop, ct) is not { } request)
            {
                break;
            }

            seqs.Add(Number(request.Last));
            if (router)
            {
                var identity = request.First.ConvertToString(Encoding.UTF8);
                identities[identity] = identities.GetValueOrDefault(identity) + 1;
            }

            Send(socket, request, ct);
        }

        return Result(router ? "router" : "rep", cid, seqs.Count, seqs) with { Identities = identities };
    }

    /// <summary>
    /// REQ: sends requests <paramref name="first"/>… one at a time and checks each reply echoes it. With a
    /// <paramref name="replyTimeout"/>, a request unanswered in time is sent again on a new socket (the "lazy
    /// pirate" pattern), at most <paramref name="retries"/> times, after which the loop ends.
    /// </summary>
    /// <param name="open">Opens (and connects) a fresh REQ socket.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <param name="first">The first sequence number.</param>
    /// <param name="count">Requests to send.</param>
    /// <param name="replyTimeout">How long to wait for a reply before resending; null waits forever.</param>
    /// <param name="retries">Resends allowed for one request.</param>
    /// <param name="ct">The watchdog.</param>
    /// <param name="onReply">Called on the role's thread after each reply, with its sequence number (the host's tests pause there).</param>
    /// <returns>The replies seen, and how many requests were resent.</returns>
    public static PeerResult Request(
        Func<NetMQSocket> open, uint cid, long first, int count, TimeSpan? replyTimeout, int retries, CancellationToken ct, Action<long>? onReply = null)
    {
        var replies = new List<long>();
        var resends = 0;
        var socket = open();
        try
        {
            for (var seq = first; seq < first + count; seq++)
            {
                for (var attempt = 0; ; attempt++)
                {
                    Send(socket, Message(seq), ct);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(replyTimeout ?? Timeout.InfiniteTimeSpan);
                    if (Receive(socket, timeout.Token, ct) is { } reply)
                    {
                        replies.Add(Number(reply.Last) == seq ? seq : throw new InvalidDataException($"request {seq} got the reply {Number(reply.Last)}"));
                        onReply?.Invoke(seq);
                        break;
                    }

                    // No reply in time: a REQ socket cannot send again, so close it and start over.
                    socket.Dispose();
                    socket = open();
                    if (attempt >= retries)
                    {
                        return Result("req", cid, replies.Count, replies) with { Resends = resends };
                    }

                    resends++;
                }
            }

            return Result("req", cid, replies.Count, replies) with { Resends = resends };
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>DEALER: sends <paramref name="count"/> numbers, then receives as many echoes.</summary>
    /// <param name="socket">A DEALER socket with its identity set.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <param name="count">Messages to send.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>The echoes seen.</returns>
    public static PeerResult Deal(NetMQSocket socket, uint cid, int count, CancellationToken ct)
    {
        for (var seq = 0; seq < count; seq++)
        {
            Send(socket, Message(seq), ct);
        }

        var replies = ReceiveNumbers(socket, count, CancellationToken.None, ct);
        return Result("dealer", cid, count, replies);
    }

    /// <summary>
    /// XPUB: waits until <paramref name="subscribers"/> subscriptions arrived (XPUB_VERBOSE: one per
    /// subscriber, even for the same topic), so that every subscriber is connected; then publishes.
    /// </summary>
    /// <param name="socket">An XPUB socket.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <param name="subscribers">Subscriptions to wait for.</param>
    /// <param name="count">Messages to publish.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>What was published.</returns>
    public static PeerResult Publish(XPublisherSocket socket, uint cid, int subscribers, int count, CancellationToken ct)
    {
        socket.Options.XPubVerbose = true;
        for (var seen = 0; seen < subscribers;)
        {
            var frame = Receive(socket, CancellationToken.None, ct)!.First.Buffer;
            seen += frame is [1, ..] ? 1 : 0;
        }

        for (var seq = 0; seq < count; seq++)
        {
            Send(socket, Message(seq), ct);
        }

        return Result("pub", cid, 0, []) with { Sent = count };
    }

    /// <summary>PUSH: sends numbers <paramref name="first"/>… (<paramref name="count"/> of them).</summary>
    /// <param name="socket">A PUSH socket.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <param name="first">The first number.</param>
    /// <param name="count">Messages to send.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>What was sent.</returns>
    public static PeerResult Push(NetMQSocket socket, uint cid, long first, int count, CancellationToken ct)
    {
        for (var seq = first; seq < first + count; seq++)
        {
            Send(socket, Message(seq), ct);
        }

        return Result("push", cid, 0, []) with { Sent = count };
    }

    /// <summary>SUB or PULL (or a pipeline worker, with <paramref name="forward"/>): receives <paramref name="count"/> numbers.</summary>
    /// <param name="socket">A SUB (subscribed) or PULL socket.</param>
    /// <param name="role">The role name for the result.</param>
    /// <param name="cid">This machine's CID.</param>
    /// <param name="count">Messages to receive; 0 for no limit (until stopped).</param>
    /// <param name="forward">A worker's PUSH socket: each number n is sent on as 2n; or null.</param>
    /// <param name="stop">Ends the loop gracefully.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>The numbers seen.</returns>
    public static PeerResult Collect(NetMQSocket socket, string role, uint cid, int count, NetMQSocket? forward, CancellationToken stop, CancellationToken ct)
    {
        var numbers = new List<long>();
        while (count == 0 || numbers.Count < count)
        {
            if (Receive(socket, stop, ct) is not { } message)
            {
                break;
            }

            var n = Number(message.Last);
            numbers.Add(n);
            if (forward is not null)
            {
                Send(forward, Message(2 * n), ct);
            }
        }

        return Result(role, cid, forward is null ? 0 : numbers.Count, numbers);
    }

    /// <summary>The message carrying <paramref name="n"/>.</summary>
    /// <param name="n">A number.</param>
    /// <returns>A one-frame message.</returns>
    public static NetMQMessage Message(long n)
    {
        var message = new NetMQMessage();
        message.Append(n.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    private static List<long> ReceiveNumbers(NetMQSocket socket, int count, CancellationToken stop, CancellationToken ct)
    {
        var numbers = new List<long>();
        while (numbers.Count < count && Receive(socket, stop, ct) is { } message)
        {
            numbers.Add(Number(message.Last));
        }

        return numbers;
    }

    private static PeerResult Result(string role, uint cid, int sent, List<long> received) =>
        new(role, cid, sent, received.Count, received.Sum(), PeerResult.Ranges(received), new Dictionary<string, int>());

    /// <summary>Receives one message; null when <paramref name="stop"/> ends the wait; throws when <paramref name="ct"/> does.</summary>
    private static NetMQMessage? Receive(NetMQSocket socket, CancellationToken stop, CancellationToken ct)
    {
        NetMQMessage? message = null;
        while (!socket.TryReceiveMultipartMessage(Step, ref message))
        {
            ct.ThrowIfCancellationRequested();
            if (stop.IsCancellationRequested)
            {
                return null;
            }
        }

        return message;
    }

    private static void Send(NetMQSocket socket, NetMQMessage message, CancellationToken ct)
    {
        while (!socket.TrySendMultipartMessage(Step, message))
        {
            ct.ThrowIfCancellationRequested();
        }
    }

    private static long Number(NetMQFrame frame) => long.Parse(frame.ConvertToString(Encoding.UTF8), CultureInfo.InvariantCulture);
}
