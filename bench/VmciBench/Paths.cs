using System.Diagnostics;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.Transport;

namespace VmciBench;

/// <summary>One way of moving messages: PUSH/PULL throughput and REQ/REP round trips.</summary>
internal sealed record BenchPath(string Name, Func<int, int, Throughput> Throughput, Func<int, Latency> RoundTrips);

/// <summary>Messages per second, MB/s (10^6 bytes) and process CPU time per message (µs, both ends) of one throughput run.</summary>
internal readonly record struct Throughput(double MsgPerSec, double MBPerSec, double CpuUsPerMsg);

/// <summary>Round-trip percentiles in microseconds, and process CPU time per round trip (µs, both ends).</summary>
internal readonly record struct Latency(double P50, double P99, double CpuUsPerTrip);

/// <summary>
/// The paths: NetMQ tcp (the baseline), NetMQ over vmci in direct mode and in relay mode, and a raw Unix domain
/// socket stream (the physical limit). Every wait has a watchdog (<see cref="Watchdog"/>): a stuck row throws a
/// <see cref="TimeoutException"/> naming the row instead of hanging. CPU time is the whole process's (both ends).
/// </summary>
internal static class Paths
{
    /// <summary>How long one message may take before the row is declared stuck.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(20);

    public static BenchPath Tcp() => NetMQPath("tcp", s =>
    {
        s.Bind("tcp://127.0.0.1:*");
        var ep = s.Options.LastEndpoint!;
        return c => c.Connect(ep);
    });

    public static BenchPath Vmci(string name, IVsockNetwork server, IVsockNetwork client, uint cid, VmciTransportMode mode) => NetMQPath(name, s =>
    {
        s.VmciOptions().Network = server;
        s.VmciOptions().TransportMode = mode;
        s.VmciBind("vmci://*:*");
        var target = $"vmci://{cid}:" + s.VmciLastEndpoint()!.Split(':')[^1];
        return c =>
        {
            c.VmciOptions().Network = client;
            c.VmciOptions().TransportMode = mode;
            c.VmciConnect(target);
        };
    });

    // The raw stream is 5-20x faster than NetMQ: with the same counts its rounds were that much shorter, and its ratios
    // moved by up to 45 % between runs. Four times the messages and trips make its rounds about as long as the others'.
    private const int RawScale = 4;

    public static BenchPath Uds(string socketPath) => new("uds(raw)",
        (size, count) => RawStream.Throughput(socketPath, size, count * RawScale),
        trips => RawStream.RoundTrips(socketPath, trips * RawScale));

    private static BenchPath NetMQPath(string name, Func<NetMQSocket, Action<NetMQSocket>> bind) => new(name,
        (size, count) => PushPull(name, bind, size, count),
        trips => ReqRep(name, bind, trips));

    // The PUSH stays open until the PULL has everything: NetMQ drops queued messages of a socket closed before its
    // asynchronous connect completed (linger covers established connections only) — that was the old 1 KiB hang.
    private static Throughput PushPull(string name, Func<NetMQSocket, Action<NetMQSocket>> bind, int size, int count)
    {
        var row = $"{name} push/pull {E2eBench.Label(size)}";
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.Options.ReceiveHighWatermark = Hwm(size);
        var connect = bind(pull);
        using var done = new ManualResetEventSlim();
        Exception? failure = null;
        var sender = new Thread(() =>
        {
            try
            {
                using var push = new PushSocket();
                push.Options.Linger = TimeSpan.Zero;
                push.Options.SendHighWatermark = Hwm(size);
                connect(push);
                var payload = new byte[size];
                for (var i = 0; i <= count && !done.IsSet; i++)
                {
                    while (!push.TrySendFrame(TimeSpan.FromMilliseconds(200), payload))
                        if (done.IsSet)
                            return;
                }
                done.Wait();
            }
            catch (Exception e) when (e is NetMQException or ObjectDisposedException)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "push " + row };
        sender.Start();
        try
        {
            Receive(pull, row, "the first message"); // the connection is up
            var cpu = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
                Receive(pull, row, $"message {i + 1} of {count}");
            watch.Stop();
            cpu = Environment.CpuUsage.TotalTime - cpu;
            var seconds = watch.Elapsed.TotalSeconds;
            return new(count / seconds, count * (double)size / seconds / 1e6, cpu.TotalMicroseconds / count);
        }
        finally
        {
            done.Set();
            if (!sender.Join(Watchdog))
                Console.Error.WriteLine($"  {row}: the sender thread did not end");
            if (failure is not null)
                Console.Error.WriteLine($"  {row}: sender failed: {failure.Message}");
        }
    }

    // Bounded queues: about 32 MiB per side, at most 10,000 messages.
    private static int Hwm(int size) => Math.Clamp((32 << 20) / size, 8, 10_000);

    private static void Receive(NetMQSocket socket, string row, string what)
    {
        if (!socket.TryReceiveFrameBytes(Watchdog, out _))
            throw new TimeoutException($"{row}: {what} did not arrive within {Watchdog.TotalSeconds:F0} s");
    }

    private static Latency ReqRep(string name, Func<NetMQSocket, Action<NetMQSocket>> bind, int trips)
    {
        var row = $"{name} req/rep";
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        var connect = bind(rep);
        using var stop = new CancellationTokenSource();
        var server = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (rep.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(200), out var request))
                    rep.SendFrame(request);
            }
        })
        { IsBackground = true, Name = "rep " + row };
        server.Start();
        try
        {
            using var req = new RequestSocket();
            req.Options.Linger = TimeSpan.Zero;
            connect(req);
            var payload = new byte[16];
            var samples = new double[trips];
            var cpu = TimeSpan.Zero;
            for (var i = -100; i < trips; i++)
            {
                if (i == 0)
                    cpu = Environment.CpuUsage.TotalTime;
                var start = Stopwatch.GetTimestamp();
                req.SendFrame(payload);
                Receive(req, row, $"reply {i + 101}");
                if (i >= 0)
                    samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
            cpu = Environment.CpuUsage.TotalTime - cpu;
            return Percentiles(samples) with { CpuUsPerTrip = cpu.TotalMicroseconds / trips };
        }
        finally
        {
            stop.Cancel();
            server.Join(Watchdog);
        }
    }

    internal static Latency Percentiles(double[] samples)
    {
        Array.Sort(samples);
        return new(samples[samples.Length / 2], samples[Math.Min(samples.Length - 1, (int)(samples.Length * 0.99))], 0);
    }
}
