using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Transport;

namespace Vmci.Cli.Smoke;

/// <summary>
/// Deploy smoke tools: <c>vmci cid</c>, <c>vmci echo</c> (a ZeroMQ REP socket returning every message) and
/// <c>vmci ping</c> (a REQ socket timing round trips), on either backend.
/// </summary>
internal static class SmokeCommands
{
    public static Command Cid()
    {
        var backend = new BackendOptions();
        var command = new Command("cid", "Print this machine's local CID (what vmci://@:PORT resolves to), or why there is none.");
        backend.AddTo(command);
        command.SetAction(parse => Guard(() =>
        {
            var network = backend.Create(parse);
            Console.WriteLine(network.GetLocalCid().ToString(CultureInfo.InvariantCulture));
            return 0;
        }));
        return command;
    }

    public static Command Echo()
    {
        var backend = new BackendOptions();
        var bind = new Option<string>("--bind") { Description = "the endpoint to bind, e.g. vmci://*:5555", Required = true };
        var count = new Option<int?>("--count") { Description = "exit after answering this many requests (default: run until Ctrl-C)" };
        var command = new Command("echo", "A ZeroMQ REP socket that returns every message unchanged (any ZeroMQ REQ client can use it).")
        {
            bind, count,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(Guard(() =>
        {
            using var rep = new ResponseSocket();
            rep.Options.Linger = TimeSpan.FromSeconds(2); // the last reply still leaves when --count ends the loop
            rep.VmciOptions().Network = backend.Create(parse);
            rep.VmciBind(parse.GetValue(bind)!);
            Console.WriteLine($"echo: listening on {rep.VmciLastEndpoint()} ({rep.VmciOptions().Network.Name})");
            var limit = parse.GetValue(count);
            var answered = 0;
            while (!ct.IsCancellationRequested && (limit is null || answered < limit))
            {
                var message = new NetMQMessage();
                if (!rep.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(200), ref message))
                    continue;
                rep.SendMultipartMessage(message);
                answered++;
            }
            Console.WriteLine($"echo: answered {answered} request(s)");
            return 0;
        })));
        return command;
    }

    public static Command Ping()
    {
        var backend = new BackendOptions();
        var endpoint = new Argument<string>("endpoint") { Description = "the echo server, e.g. vmci://2:5555" };
        var count = new Option<int>("--count", "-c") { Description = "requests to send", DefaultValueFactory = _ => 4 };
        var interval = new Option<int>("--interval", "-i") { Description = "milliseconds between requests", DefaultValueFactory = _ => 200 };
        var size = new Option<int>("--size", "-s") { Description = "payload bytes", DefaultValueFactory = _ => 64 };
        var timeout = new Option<int>("--timeout", "-W") { Description = "milliseconds to wait for each reply", DefaultValueFactory = _ => 2000 };
        var command = new Command("ping", "Send REQ messages to an echo server and print round-trip times (min/avg/max/p99), like ping.")
        {
            endpoint, count, interval, size, timeout,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(Guard(() =>
        {
            var target = parse.GetValue(endpoint)!;
            var network = backend.Create(parse);
            var n = parse.GetValue(count);
            var payload = new byte[Math.Max(8, parse.GetValue(size))];
            var wait = TimeSpan.FromMilliseconds(parse.GetValue(timeout));
            var rtts = new List<double>();
            Console.WriteLine($"PING {target} ({network.Name}): {payload.Length} bytes");
            var req = Connect(target, network);
            try
            {
                for (var seq = 1; seq <= n && !ct.IsCancellationRequested; seq++)
                {
                    BitConverter.TryWriteBytes(payload, (long)seq);
                    var clock = Stopwatch.StartNew();
                    req.SendFrame(payload);
                    if (req.TryReceiveFrameBytes(wait, out var reply) && reply.AsSpan().SequenceEqual(payload))
                    {
                        var ms = clock.Elapsed.TotalMilliseconds;
                        rtts.Add(ms);
                        Console.WriteLine($"{reply.Length} bytes from {target}: seq={seq} time={ms:0.000} ms");
                    }
                    else
                    {
                        Console.WriteLine($"no reply from {target}: seq={seq} (timeout {wait.TotalMilliseconds:0} ms)");
                        req.Dispose(); // a REQ socket that lost its reply cannot send again: start over (lazy pirate)
                        req = Connect(target, network);
                    }
                    if (seq < n)
                        ct.WaitHandle.WaitOne(parse.GetValue(interval));
                }
            }
            finally
            {
                req.Dispose();
            }
            Console.WriteLine($"--- {target} ping statistics ---");
            Console.WriteLine(PingStatistics.Format(n, rtts));
            return rtts.Count == n ? 0 : 1;
        })));
        return command;
    }

    private static RequestSocket Connect(string endpoint, IVsockNetwork network)
    {
        var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.VmciOptions().Network = network;
        req.VmciConnect(endpoint);
        return req;
    }

    /// <summary>Runs a command body; a vmci or NetMQ error becomes one clear line on stderr and exit code 1.</summary>
    internal static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is VmciException or NetMQException)
        {
            Console.Error.WriteLine($"vmci: {e.Message}");
            return 1;
        }
    }
}

/// <summary>ping's closing lines.</summary>
internal static class PingStatistics
{
    public static string Format(int sent, IReadOnlyList<double> rtts)
    {
        var loss = sent == 0 ? 0 : 100.0 * (sent - rtts.Count) / sent;
        var head = string.Create(CultureInfo.InvariantCulture, $"{sent} sent, {rtts.Count} received, {loss:0.#}% loss");
        if (rtts.Count == 0)
            return head;
        var sorted = rtts.Order().ToArray();
        var p99 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
        return head + string.Create(CultureInfo.InvariantCulture,
            $"\nrtt min/avg/max/p99 = {sorted[0]:0.000}/{sorted.Average():0.000}/{sorted[^1]:0.000}/{p99:0.000} ms");
    }
}
