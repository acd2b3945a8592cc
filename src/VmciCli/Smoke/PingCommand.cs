using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Cli.Shell;
using Vmci.Transport;

namespace Vmci.Cli.Smoke;

/// <summary>
/// <c>vmci ping ENDPOINT [-c N] [-i MS] [-s BYTES] [-W MS]</c>: REQ round trips to an echo server, printed like ping(8);
/// every wait is cut short by SIGINT or SIGTERM, which end it with the statistics so far.
/// </summary>
internal static class PingCommand
{
    /// <summary>The longest wait or interval accepted: one hour.</summary>
    public const int MaxMilliseconds = 3_600_000;

    /// <summary>The largest payload: 16 MiB (the first 8 bytes carry the sequence number).</summary>
    public const int MaxPayload = 16 << 20;

    /// <summary>How often a wait looks at the stop signal.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var backend = new BackendOptions();
        var endpoint = new Argument<string>("endpoint") { Description = "the echo server, e.g. vmci://2:5555" }.Endpoint(_ => true);
        var count = new Option<int>("--count", "-c") { Description = "requests to send, 1 to 1000000", DefaultValueFactory = _ => 4 }
            .InRange(1, 1_000_000, "requests");
        var interval = new Option<int>("--interval", "-i") { Description = $"milliseconds between requests, 0 to {MaxMilliseconds}", DefaultValueFactory = _ => 200 }
            .InRange(0, MaxMilliseconds, "milliseconds");
        var size = new Option<int>("--size", "-s") { Description = $"payload bytes, 8 to {MaxPayload}", DefaultValueFactory = _ => 64 }
            .InRange(8, MaxPayload, "bytes (the first 8 carry the sequence number)");
        var timeout = new Option<int>("--timeout", "-W") { Description = $"milliseconds to wait for each reply, 1 to {MaxMilliseconds}", DefaultValueFactory = _ => 2000 }
            .InRange(1, MaxMilliseconds, "milliseconds");
        var command = new Command("ping", "Send REQ messages to an echo server and print round-trip times (min/avg/max/p99), like ping.")
        {
            endpoint, count, interval, size, timeout,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(Run(
            backend.Create(parse), parse.GetValue(endpoint)!, parse.GetValue(count), parse.GetValue(interval), parse.GetValue(size), parse.GetValue(timeout), ct)));
        return command;
    }

    private static int Run(IVsockNetwork network, string target, int n, int interval, int size, int timeout, CancellationToken ct)
    {
        var payload = new byte[size];
        var wait = TimeSpan.FromMilliseconds(timeout);
        var rtts = new List<double>();
        var sent = 0;
        Console.WriteLine($"PING {target} ({network.Name}): {payload.Length} bytes");
        var req = Connect(target, network);
        try
        {
            for (var seq = 1; seq <= n && !ct.IsCancellationRequested; seq++)
            {
                BitConverter.TryWriteBytes(payload, (long)seq);
                var clock = Stopwatch.StartNew();
                req.SendFrame(payload);
                sent++;
                if (Receive(req, wait, ct) is { } reply && reply.AsSpan().SequenceEqual(payload))
                {
                    var ms = clock.Elapsed.TotalMilliseconds;
                    rtts.Add(ms);
                    Console.WriteLine($"{reply.Length} bytes from {target}: seq={seq} time={ms:0.000} ms");
                }
                else if (!ct.IsCancellationRequested)
                {
                    Console.WriteLine($"no reply from {target}: seq={seq} (timeout {timeout} ms)");
                    req.Dispose(); // a REQ socket that lost its reply cannot send again: start over (lazy pirate)
                    req = Connect(target, network);
                }
                if (seq < n)
                    ct.WaitHandle.WaitOne(interval);
            }
        }
        finally
        {
            req.Dispose();
        }
        Console.WriteLine($"--- {target} ping statistics ---");
        Console.WriteLine(PingStatistics.Format(sent, rtts));
        return sent > 0 && rtts.Count == sent ? ExitCodes.Success : ExitCodes.Failed;
    }

    /// <summary>The reply, or null after <paramref name="wait"/> or once stopped.</summary>
    private static byte[]? Receive(RequestSocket req, TimeSpan wait, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!ct.IsCancellationRequested)
        {
            // Whole milliseconds: NetMQ truncates a wait to milliseconds (a fraction would become 0, no wait at all).
            var left = Math.Ceiling((wait - clock.Elapsed).TotalMilliseconds);
            if (left <= 0)
                return null;
            if (req.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(Math.Min(left, Slice.TotalMilliseconds)), out var reply))
                return reply;
        }
        return null;
    }

    private static RequestSocket Connect(string endpoint, IVsockNetwork network)
    {
        var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.VmciOptions().Network = network;
        req.VmciConnect(endpoint);
        return req;
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
