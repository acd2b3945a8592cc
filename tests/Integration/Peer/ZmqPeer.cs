using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Sim;

namespace Integration.Peer;

/// <summary>
/// The verb <c>peer zmq ROLE bind|connect ENDPOINT COUNT [OPTION…]</c>: one ZeroMQ role over <c>vmci://</c>
/// (see <see cref="ZmqRoles"/>) as the machine <c>VMCI_SIM_CID</c> of the fabric <c>VMCI_SIM_FABRIC</c>.
/// Prints <c>ready ENDPOINT</c> (LAST_ENDPOINT, with the real port and this machine's CID for <c>*</c>) once
/// bound or connected, then <c>result {json}</c> (<see cref="PeerResult"/>) when done.
/// </summary>
/// <remarks>
/// Roles: <c>rep</c> and <c>router</c> echo COUNT requests (0: until stopped); <c>req</c> sends COUNT
/// requests and checks the echoes; <c>dealer</c> sends COUNT and receives COUNT echoes; <c>pub</c> (an XPUB)
/// waits for <c>subscribers=K</c> subscriptions, then publishes COUNT; <c>sub</c> and <c>pull</c> receive COUNT;
/// <c>push</c> sends COUNT; <c>worker</c> pulls COUNT numbers n from ENDPOINT and pushes 2n to <c>to=</c>.
/// Options: <c>identity=NAME</c> (dealer), <c>to=bind:EP|connect:EP</c> (worker), <c>subscribers=K</c> (pub),
/// <c>first=N</c> (req, push: the first sequence number), <c>timeout=MS</c> and <c>retries=N</c> (req: resend
/// on a new socket after MS without a reply, at most N times), <c>hold</c> (after the result, keep the
/// sockets open until SIGTERM, so that the last messages are delivered before the process ends).
/// SIGTERM ends a role gracefully: it prints what it saw so far and exits 0.
/// </remarks>
public static class ZmqPeer
{
    /// <summary>The usage line printed for bad arguments.</summary>
    public const string Usage =
        "zmq ROLE bind|connect ENDPOINT COUNT [identity=NAME] [to=bind:EP|connect:EP] [subscribers=K] [first=N] [timeout=MS] [retries=N] [hold]; " +
        "ROLE is rep, req, pub, sub, push, pull, worker, router or dealer";

    /// <summary>Runs the role described by <paramref name="args"/> (the words after <c>zmq</c>).</summary>
    /// <param name="args">ROLE, bind|connect, ENDPOINT, COUNT and options.</param>
    /// <param name="stop">Cancelled by SIGTERM: ends the role gracefully.</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>The exit code: 0, or 2 for bad arguments.</returns>
    public static async Task<int> RunAsync(string[] args, CancellationToken stop, CancellationToken ct)
    {
        if (args is not [var role, "bind" or "connect", var endpoint, var countText, .. var rest]
            || !int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return Fail($"expected ROLE bind|connect ENDPOINT COUNT, got '{string.Join(' ', args)}'");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in rest)
        {
            var (key, value) = option.Split('=', 2) is [var k, var v] ? (k, v) : (option, "");
            if (key is not ("identity" or "to" or "subscribers" or "first" or "timeout" or "retries" or "hold"))
            {
                return Fail($"unknown option '{option}'");
            }

            options[key] = value;
        }

        var bind = args[1] == "bind";
        try
        {
            await Task.Run(() => Play(role, bind, endpoint, count, options, stop, ct), ct);
            return 0;
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
        }
    }

    private static void Play(string role, bool bind, string endpoint, int count, Dictionary<string, string> options, CancellationToken stop, CancellationToken ct)
    {
        var network = SimSettings.FromEnvironment().Join();
        var cid = network.LocalCid;

        // A role with a COUNT runs until it is done (SIGTERM then only ends "hold"); COUNT 0 runs until SIGTERM.
        var roleStop = count == 0 ? stop : CancellationToken.None;
        NetMQSocket Open(string type, bool asBind, string ep, string? identity = null)
        {
            var socket = ZmqRoles.Open(type, network, asBind, ep, identity);
            Console.WriteLine($"ready {ZmqRoles.Reachable(socket, cid)}");
            return socket;
        }

        // Prints the result; with "hold", waits for SIGTERM before the caller closes the sockets.
        void Finish(PeerResult result)
        {
            Console.WriteLine(result.ToLine());
            if (options.ContainsKey("hold"))
            {
                WaitHandle.WaitAny([stop.WaitHandle, ct.WaitHandle]);
                ct.ThrowIfCancellationRequested();
            }
        }

        long Number(string key, long fallback) =>
            options.TryGetValue(key, out var text) ? long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;

        switch (role)
        {
            case "rep" or "router":
                using (var socket = Open(role, bind, endpoint))
                {
                    Finish(ZmqRoles.Echo(socket, cid, count, roleStop, ct));
                    return;
                }

            case "req":
                TimeSpan? timeout = options.ContainsKey("timeout") ? TimeSpan.FromMilliseconds(Number("timeout", 0)) : null;
                Finish(ZmqRoles.Request(() => Open("req", bind, endpoint), cid, Number("first", 0), count, timeout, (int)Number("retries", int.MaxValue), ct));
                return;

            case "dealer":
                var identity = options.GetValueOrDefault("identity") ?? throw new ArgumentException("dealer needs identity=NAME");
                using (var socket = Open("dealer", bind, endpoint, identity))
                {
                    Finish(ZmqRoles.Deal(socket, cid, count, ct));
                    return;
                }

            case "pub":
                using (var socket = (XPublisherSocket)Open("xpub", bind, endpoint))
                {
                    Finish(ZmqRoles.Publish(socket, cid, (int)Number("subscribers", 1), count, ct));
                    return;
                }

            case "sub":
                using (var socket = (SubscriberSocket)Open("sub", bind, endpoint))
                {
                    socket.SubscribeToAnyTopic();
                    Finish(ZmqRoles.Collect(socket, "sub", cid, count, forward: null, roleStop, ct));
                    return;
                }

            case "push":
                using (var socket = Open("push", bind, endpoint))
                {
                    Finish(ZmqRoles.Push(socket, cid, Number("first", 0), count, ct));
                    return;
                }

            case "pull":
                using (var socket = Open("pull", bind, endpoint))
                {
                    Finish(ZmqRoles.Collect(socket, "pull", cid, count, forward: null, roleStop, ct));
                    return;
                }

            case "worker":
                var to = options.GetValueOrDefault("to") ?? throw new ArgumentException("worker needs to=bind:EP or to=connect:EP");
                var (toBind, toEndpoint) = to.Split(':', 2) is [var action and ("bind" or "connect"), var ep]
                    ? (action == "bind", ep)
                    : throw new ArgumentException($"to='{to}' is not bind:EP or connect:EP");
                using (var input = Open("pull", bind, endpoint))
                using (var output = Open("push", toBind, toEndpoint))
                {
                    Finish(ZmqRoles.Collect(input, "worker", cid, count, output, roleStop, ct));
                    return;
                }

            default:
                throw new ArgumentException($"unknown role '{role}'");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"peer zmq: {message}; usage: {Usage}");
        return 2;
    }
}
