using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.Sim;
using Vmci.Transport;

namespace VmciBench;

/// <summary>
/// <c>e2e [--quick] [--json FILE]</c>: PUSH/PULL throughput at 16 B, 1 KiB, 64 KiB and REQ/REP round-trip
/// p50/p99, for NetMQ tcp loopback and for vmci over the simulator, with the vmci/tcp ratios.
/// </summary>
public static class E2eBench
{
    private static readonly int[] Sizes = [16, 1024, 64 * 1024];
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var jsonIndex = Array.IndexOf(args, "--json");
        var jsonFile = jsonIndex >= 0 && jsonIndex + 1 < args.Length ? args[jsonIndex + 1] : null;
        var dir = Directory.CreateTempSubdirectory("vmci-bench-").FullName;
        try
        {
            var fabric = SimFabric.Open(dir);
            var server = fabric.Join(VmciCid.Host);
            var client = fabric.Join(VmciCid.FirstGuest);
            var rows = new List<Dictionary<string, object>>();
            Console.WriteLine($"e2e {(quick ? "quick" : "full")}  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cpus  {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            Console.WriteLine($"{"test",-22} {"tcp",16} {"vmci(sim)",16} {"vmci/tcp",9}");
            foreach (var size in Sizes)
            {
                var count = Math.Max(200, (quick ? 20_000_000 : 200_000_000) / Math.Max(size, 64) / (size >= 65536 ? 1 : 4));
                Console.Error.WriteLine($"  running {size} B x {count}");
                var tcp = Throughput(count, size, null, null, null);
                var vmci = Throughput(count, size, server, client, fabric);
                Row(rows, $"push/pull {size} B msg/s", tcp.MsgPerSec, vmci.MsgPerSec, higherIsBetter: true);
                Row(rows, $"push/pull {size} B MB/s", tcp.MBPerSec, vmci.MBPerSec, higherIsBetter: true);
            }
            var trips = quick ? 500 : 5000;
            var tcpRtt = RoundTrips(trips, null, null);
            var vmciRtt = RoundTrips(trips, server, client);
            Row(rows, "req/rep p50 us", tcpRtt.P50, vmciRtt.P50, higherIsBetter: false);
            Row(rows, "req/rep p99 us", tcpRtt.P99, vmciRtt.P99, higherIsBetter: false);
            if (jsonFile is not null)
            {
                File.WriteAllText(jsonFile, JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["date"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                    ["cpus"] = Environment.ProcessorCount,
                    ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                    ["quick"] = quick,
                    ["rows"] = rows,
                }, JsonOptions));
            }
            return 0;
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Row(List<Dictionary<string, object>> rows, string name, double tcp, double vmci, bool higherIsBetter)
    {
        var ratio = tcp > 0 ? vmci / tcp : 0;
        Console.WriteLine($"{name,-22} {tcp,16:N1} {vmci,16:N1} {ratio,9:F2}");
        rows.Add(new() { ["test"] = name, ["tcp"] = tcp, ["vmci"] = vmci, ["ratio"] = ratio, ["higherIsBetter"] = higherIsBetter });
    }

    private static (string Bind, Action<NetMQSocket> Connect) Endpoints(NetMQSocket bound, IVsockNetwork? server, IVsockNetwork? client)
    {
        if (server is null)
        {
            bound.Bind("tcp://127.0.0.1:0");
            var ep = bound.Options.LastEndpoint!;
            return (ep, s => s.Connect(ep));
        }
        bound.VmciOptions().Network = server;
        bound.VmciBind("vmci://*:*");
        var target = "vmci://2:" + bound.VmciLastEndpoint()!.Split(':')[^1];
        return (target, s =>
        {
            s.VmciOptions().Network = client!;
            s.VmciConnect(target);
        }
        );
    }

    private static (double MsgPerSec, double MBPerSec) Throughput(int count, int size, IVsockNetwork? server, IVsockNetwork? client, SimFabric? fabric)
    {
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.Options.ReceiveHighWatermark = 10_000;
        var (_, connect) = Endpoints(pull, server, client);
        var sender = new Thread(() =>
        {
            using var push = new PushSocket();
            push.Options.Linger = TimeSpan.FromSeconds(5);
            push.Options.SendHighWatermark = 10_000;
            connect(push);
            var payload = new byte[size];
            for (var i = 0; i < count + 1; i++)
                push.SendFrame(payload);
        });
        sender.Start();
        Console.Error.WriteLine($"  waiting first ({(server is null ? "tcp" : "vmci")})");
        pull.ReceiveFrameBytes(); // the first message: the connection is up
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            pull.SkipFrame();
        watch.Stop();
        Console.Error.WriteLine("  joining");
        sender.Join();
        var seconds = watch.Elapsed.TotalSeconds;
        return (count / seconds, count * (double)size / seconds / 1e6);
    }

    private static (double P50, double P99) RoundTrips(int trips, IVsockNetwork? server, IVsockNetwork? client)
    {
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        var (_, connect) = Endpoints(rep, server, client);
        var samples = new double[trips];
        var requester = new Thread(() =>
        {
            using var req = new RequestSocket();
            req.Options.Linger = TimeSpan.Zero;
            connect(req);
            var payload = new byte[16];
            for (var i = 0; i < 100; i++)
            {
                req.SendFrame(payload);
                req.ReceiveFrameBytes();
            }
            for (var i = 0; i < trips; i++)
            {
                var start = Stopwatch.GetTimestamp();
                req.SendFrame(payload);
                req.ReceiveFrameBytes();
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        });
        requester.Start();
        for (var i = 0; i < trips + 100; i++)
            rep.SendFrame(rep.ReceiveFrameBytes());
        requester.Join();
        Array.Sort(samples);
        return (samples[trips / 2], samples[Math.Min(trips - 1, (int)(trips * 0.99))]);
    }
}
