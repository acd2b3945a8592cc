using System.CommandLine;
using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Cli.Shell;
using Vmci.Transport;

namespace Vmci.Cli.Smoke;

/// <summary>
/// Deploy smoke tools: <c>vmci cid</c>, <c>vmci echo</c> (a ZeroMQ REP socket returning every message) and
/// <c>vmci ping</c> (a REQ socket timing round trips, <see cref="PingCommand"/>), on either backend.
/// </summary>
internal static class SmokeCommands
{
    /// <summary>echo's default largest message: a few MiB, far above any smoke test, far below what exhausts memory.</summary>
    public const long DefaultMaxSize = 4L << 20;

    /// <summary>The largest --max-size accepted (1 GiB): the echo keeps one message of up to this size per connection.</summary>
    public const long MaxMaxSize = 1L << 30;

    public static Command Cid()
    {
        var backend = new BackendOptions();
        var command = new Command("cid", "Print this machine's local CID (what vmci://@:PORT resolves to), or why there is none.");
        backend.AddTo(command);
        command.SetAction(parse =>
        {
            var network = backend.Create(parse);
            Console.WriteLine(network.GetLocalCid().ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Echo()
    {
        var backend = new BackendOptions();
        var bind = new Option<string>("--bind") { Description = "the endpoint to bind, e.g. vmci://*:5555", Required = true }.BindEndpoint();
        var count = new Option<int?>("--count") { Description = "exit after answering this many requests, 1 to 2147483647 (default: run until Ctrl-C or SIGTERM)" }
            .InRange(1, int.MaxValue, "requests");
        var maxSize = new Option<long>("--max-size")
        {
            Description = $"the largest message accepted, in bytes, 1 to {MaxMaxSize} (default {DefaultMaxSize}, 4 MiB); a peer sending a larger one is disconnected",
            DefaultValueFactory = _ => DefaultMaxSize,
        }.InRange(1, MaxMaxSize, "bytes");
        var command = new Command("echo", "A ZeroMQ REP socket that returns every message unchanged (any ZeroMQ REQ client can use it).")
        {
            bind, count, maxSize,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(RunEcho(backend.Create(parse), parse.GetValue(bind)!, parse.GetValue(count), parse.GetValue(maxSize), ct)));
        return command;
    }

    private static int RunEcho(IVsockNetwork network, string endpoint, int? limit, long maxSize, CancellationToken ct)
    {
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.FromSeconds(2); // the last reply still leaves when --count ends the loop
        // NetMQ checks each frame's announced size before it allocates: a larger one disconnects the peer.
        rep.Options.MaxMsgSize = maxSize;
        rep.VmciOptions().Network = network;
        rep.VmciBind(endpoint);
        Console.WriteLine($"echo: listening on {rep.VmciLastEndpoint()} ({network.Name}), messages up to {maxSize} bytes");
        var answered = 0;
        while (!ct.IsCancellationRequested && (limit is null || answered < limit))
        {
            var message = new NetMQMessage();
            if (!rep.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message))
                continue;
            rep.SendMultipartMessage(message);
            answered++;
        }
        if (ct.IsCancellationRequested)
            rep.Options.Linger = TimeSpan.Zero; // stopped by a signal: end now
        Console.WriteLine($"echo: answered {answered} request(s)");
        return ExitCodes.Success;
    }
}
