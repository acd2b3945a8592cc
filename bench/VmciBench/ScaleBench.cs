using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.Sim;
using Vmci.Transport;

namespace VmciBench;

/// <summary>
/// Scale on one simulator fabric: 256 CIDs x 4 listeners; N concurrent connections into one NetMQ PULL bound in direct
/// mode (each a minimal ZMTP 3.0 PUSH peer on a raw sim connection): connect time, RSS, fds, memory and throughput per
/// connection; many NetMQ sockets each doing one VmciConnect, in both modes (time to every first message, CPU: the
/// relay's ownership check per connection); and RSS sampled over a long PUSH/PULL run (does memory stay flat?).
/// </summary>
internal static class ScaleBench
{
    private const int Cids = 256;
    private const int ListenersPerCid = 4;
    private const int FirstCid = 100;

    public static Dictionary<string, object> Run(SimFabric fabric, bool quick)
    {
        var result = new Dictionary<string, object>();
        Console.WriteLine();
        Console.WriteLine($"scale ({(quick ? "quick" : "full")}):");
        var watch = Stopwatch.StartNew();
        var networks = new List<SimNetwork>();
        var listeners = new List<IVsockListener>();
        for (var i = 0; i < Cids; i++)
        {
            var network = fabric.Join((uint)(FirstCid + i));
            networks.Add(network);
            for (var j = 0; j < ListenersPerCid; j++)
                listeners.Add(network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any)));
        }
        Print(result, "fabric_cids_x_listeners", Cids * ListenersPerCid, $"{Cids} CIDs x {ListenersPerCid} listeners up in {watch.Elapsed.TotalMilliseconds:F0} ms");
        result["fabric_setup_ms"] = watch.Elapsed.TotalMilliseconds;
        foreach (var l in listeners)
            l.Dispose();
        Connections(result, fabric, networks, quick ? 512 : 4096);
        TcpConnections(result, quick ? 512 : 4096);
        foreach (var mode in new[] { VmciTransportMode.Direct, VmciTransportMode.Relay })
            ManyConnects(result, fabric, quick ? 200 : 1000, mode);
        Flat(result, fabric, quick ? 200_000 : 10_000_000);
        return result;
    }

    private static void Connections(Dictionary<string, object> result, SimFabric fabric, List<SimNetwork> clients, int n)
    {
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.VmciOptions().Network = fabric.Join(VmciCid.Host);
        pull.VmciOptions().TransportMode = VmciTransportMode.Direct;
        pull.VmciOptions().MaxConnections = n + 64;
        pull.VmciBind("vmci://*:*");
        var port = uint.Parse(pull.VmciLastEndpoint()!.Split(':')[^1], CultureInfo.InvariantCulture);
        var target = new VsockAddress(VmciCid.Host, port);
        var heapBefore = Settle();
        var rssBefore = Rss();
        var fdsBefore = Fds();
        var connections = new IVsockConnection[n];
        var watch = Stopwatch.StartNew();
        for (var start = 0; start < n; start += 64) // in waves: the listener's accept backlog is NetMQ's 100
        {
            var wave = Enumerable.Range(start, Math.Min(64, n - start)).Select(async i =>
            {
                var c = await clients[i % clients.Count].ConnectAsync(target).ConfigureAwait(false);
                await Zmtp.HandshakeAsync(c).ConfigureAwait(false);
                connections[i] = c;
            }).ToArray();
            if (!Task.WaitAll(wave, Paths.Watchdog))
                throw new TimeoutException($"scale: connections {start}..{start + 63} did not complete the ZMTP handshake within {Paths.Watchdog.TotalSeconds:F0} s");
        }
        var connectMs = watch.Elapsed.TotalMilliseconds;
        var heap = Settle();
        var rss = Rss();
        var fds = Fds();
        var perConnection = (rss - rssBefore) / n;
        Print(result, "connections", n, $"{n} connections into a direct-mode bind: {connectMs:F0} ms to connect+handshake ({connectMs * 1000 / n:F0} us each)");
        Print(result, "rss_per_connection_bytes", perConnection, $"RSS {rssBefore >> 20} -> {rss >> 20} MiB: {perConnection / 1024.0:F1} KiB per connection, both ends (target <= 32 KiB)");
        Print(result, "managed_bytes_per_connection", (heap - heapBefore) / n,
            $"managed heap {heapBefore >> 20} -> {heap >> 20} MiB: {(heap - heapBefore) / n / 1024.0:F1} KiB per connection (NetMQ session, engine and pipes, both socket ends)");
        Print(result, "fds_per_connection", (fds - fdsBefore) / (double)n, $"fds {fdsBefore} -> {fds} ({(fds - fdsBefore) / (double)n:F1} per connection, both ends in this process)");
        result["connect_ms"] = connectMs;
        result["peak_rss_bytes"] = Hwm();

        // Throughput: every connection sends the same number of 1 KiB messages at once.
        const int size = 1024;
        var perConn = Math.Max(20, 200_000 / n);
        var frame = Zmtp.Frame(new byte[size]);
        watch.Restart();
        var senders = connections.Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < perConn; i++)
                await c.SendAsync(frame).ConfigureAwait(false);
        })).ToArray();
        for (var i = 0; i < n * perConn; i++)
        {
            if (!pull.TryReceiveFrameBytes(Paths.Watchdog, out _))
                throw new TimeoutException($"scale: message {i + 1} of {n * perConn} did not arrive within {Paths.Watchdog.TotalSeconds:F0} s");
        }
        var seconds = watch.Elapsed.TotalSeconds;
        Task.WaitAll(senders, Paths.Watchdog);
        Print(result, "msgs_per_sec_total", n * perConn / seconds,
            $"{n} x {perConn} x 1 KiB: {n * perConn / seconds:N0} msg/s total, {perConn / seconds:N1} msg/s per connection");
        result["msgs_per_sec_per_connection"] = perConn / seconds;
        Print(result, "peak_rss_bytes", Hwm(), $"peak RSS (VmHWM) {Hwm() >> 20} MiB");
        foreach (var c in connections)
            c.Dispose();
    }

    // The baseline of the memory figures: the same n raw ZMTP peers into a NetMQ tcp bind on 127.0.0.1. What NetMQ's own
    // session, engine and pipes cost per connection is the floor of any transport that hands NetMQ a socket.
    private static void TcpConnections(Dictionary<string, object> result, int n)
    {
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.Options.Backlog = 128;
        pull.Bind("tcp://127.0.0.1:*");
        var port = int.Parse(pull.Options.LastEndpoint!.Split(':')[^1], CultureInfo.InvariantCulture);
        var heapBefore = Settle();
        var sockets = new System.Net.Sockets.Socket[n];
        try
        {
            for (var start = 0; start < n; start += 64)
            {
                var wave = Enumerable.Range(start, Math.Min(64, n - start)).Select(async i =>
                {
                    var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    sockets[i] = s;
                    await s.ConnectAsync(System.Net.IPAddress.Loopback, port).ConfigureAwait(false);
                    await Zmtp.HandshakeAsync(s).ConfigureAwait(false);
                }).ToArray();
                if (!Task.WaitAll(wave, Paths.Watchdog))
                    throw new TimeoutException($"scale tcp: connections {start}..{start + 63} did not complete the ZMTP handshake within {Paths.Watchdog.TotalSeconds:F0} s");
            }
            var heap = (Settle() - heapBefore) / n;
            // RSS is not comparable here: the heap of the vmci part before, freed, is reused.
            Print(result, "tcp_managed_bytes_per_connection", heap,
                $"baseline, the same {n} peers into a NetMQ tcp bind: {heap / 1024.0:F1} KiB managed heap per connection (NetMQ's engine buffers and pipe chunks alone: 36.1 KiB)");
        }
        finally
        {
            foreach (var s in sockets)
                s?.Dispose();
        }
    }

    // n NetMQ PUSH sockets, one VmciConnect each, into one PULL: the time until every one has delivered its first message,
    // and the process CPU it took. In relay mode each connection passes the loopback ownership check.
    private static void ManyConnects(Dictionary<string, object> result, SimFabric fabric, int n, VmciTransportMode mode)
    {
        var name = mode.ToString().ToLowerInvariant();
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.VmciOptions().Network = fabric.Join(VmciCid.Host);
        pull.VmciOptions().TransportMode = mode;
        pull.VmciBind("vmci://*:*");
        var target = "vmci://2:" + pull.VmciLastEndpoint()!.Split(':')[^1];
        var guest = fabric.Join(VmciCid.FirstGuest);
        var pushes = new List<PushSocket>(n);
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < n; i++)
            {
                var push = new PushSocket();
                pushes.Add(push);
                push.Options.Linger = TimeSpan.Zero;
                push.VmciOptions().Network = guest;
                push.VmciOptions().TransportMode = mode;
                push.VmciConnect(target);
                push.SendFrame("hello");
            }
            for (var i = 0; i < n; i++)
            {
                if (!pull.TryReceiveFrameBytes(Paths.Watchdog, out _))
                    throw new TimeoutException($"scale connects ({name}): first message {i + 1} of {n} did not arrive within {Paths.Watchdog.TotalSeconds:F0} s");
            }
        }
        finally
        {
            foreach (var push in pushes)
                push.Dispose();
        }
        var ms = watch.Elapsed.TotalMilliseconds;
        cpu = Environment.CpuUsage.TotalTime - cpu;
        if (mode == VmciTransportMode.Relay)
            OwnershipCheck(result);
        Print(result, $"connects_{name}_ms", ms, $"{n} NetMQ sockets x 1 VmciConnect ({name}): every first message after {ms:F0} ms, {cpu.TotalMilliseconds:F0} ms CPU ({cpu.TotalMicroseconds / n:F0} us per connect)");
        result[$"connects_{name}_cpu_ms"] = cpu.TotalMilliseconds;
    }

    // The relay's loopback ownership check alone, with this process's descriptors as they are: one netlink lookup plus the
    // descriptor scan.
    private static void OwnershipCheck(Dictionary<string, object> result)
    {
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
        using var own = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        own.Connect(System.Net.IPAddress.Loopback, port);
        using var accepted = listener.Accept();
        const int Checks = 200;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Checks; i++)
        {
            if (!Vmci.Transport.Internal.LoopbackOwnership.IsOwnConnection(accepted, port))
                throw new InvalidOperationException("scale: the ownership check refused this process's own connection");
        }
        var us = watch.Elapsed.TotalMicroseconds / Checks;
        Print(result, "ownership_check_us", us, $"relay ownership check: {us:F0} us per connection at {Fds()} descriptors (netlink lookup + descriptor scan)");
    }

    private static void Flat(Dictionary<string, object> result, SimFabric fabric, int count)
    {
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        pull.VmciOptions().Network = fabric.Join(VmciCid.Host);
        pull.VmciBind("vmci://*:*");
        var target = "vmci://2:" + pull.VmciLastEndpoint()!.Split(':')[^1];
        using var done = new ManualResetEventSlim();
        var sender = new Thread(() =>
        {
            using var push = new PushSocket();
            push.Options.Linger = TimeSpan.Zero;
            push.VmciOptions().Network = fabric.Join(VmciCid.FirstGuest);
            push.VmciConnect(target);
            var payload = new byte[16];
            for (var i = 0; i < count && !done.IsSet; i++)
                while (!push.TrySendFrame(TimeSpan.FromMilliseconds(200), payload) && !done.IsSet) { }
            done.Wait();
        })
        { IsBackground = true };
        sender.Start();
        var samples = new List<long>();
        var every = count / 20;
        var watch = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (!pull.TryReceiveFrameBytes(Paths.Watchdog, out _))
                    throw new TimeoutException($"scale flat: message {i + 1} of {count} did not arrive within {Paths.Watchdog.TotalSeconds:F0} s");
                if (i % every == 0)
                    samples.Add(Rss());
            }
        }
        finally
        {
            done.Set();
            sender.Join(Paths.Watchdog);
        }
        samples.Add(Rss());
        // The first sample is taken before the buffers warm up; growth is measured from the second one.
        var start = samples[1];
        var end = samples[^1];
        var max = samples.Max();
        Print(result, "flat_messages", count, $"{count:N0} x 16 B over vmci in {watch.Elapsed.TotalSeconds:F1} s: RSS start {start >> 20} MiB, end {end >> 20} MiB, "
            + $"max {max >> 20} MiB, growth {(end - start) / 1024.0 / 1024:F1} MiB ({samples.Count} samples)");
        result["flat_rss_samples_bytes"] = samples;
        result["flat_growth_bytes"] = end - start;
    }

    private static void Print(Dictionary<string, object> result, string key, double value, string text)
    {
        result[key] = value;
        Console.WriteLine("  " + text);
    }

    /// <summary>
    /// The managed heap once it holds still: NetMQ reaps closed sockets on its own thread, so right after a Dispose the
    /// heap still holds sessions, engines and pipes about to go. Collects until two readings 100 ms apart agree within
    /// 1 % (at most 5 s).
    /// </summary>
    private static long Settle()
    {
        var last = long.MaxValue;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var heap = GC.GetTotalMemory(forceFullCollection: true);
            if (Math.Abs(heap - last) <= heap / 100 || clock.Elapsed > TimeSpan.FromSeconds(5))
                return heap;
            last = heap;
            Thread.Sleep(100);
        }
    }

    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    internal static long Rss() => Status("VmRSS:");

    internal static long Hwm() => Status("VmHWM:");

    internal static int Fds() => Directory.GetFiles("/proc/self/fd").Length;
}

/// <summary>A minimal ZMTP 3.0 PUSH peer (NULL mechanism): greeting, READY, then frames.</summary>
internal static class Zmtp
{
    public static Task HandshakeAsync(IVsockConnection c) =>
        HandshakeAsync(b => c.SendAsync(b), b => c.ReceiveAsync(b));

    public static Task HandshakeAsync(System.Net.Sockets.Socket s) =>
        HandshakeAsync(async b => await s.SendAsync(b, System.Net.Sockets.SocketFlags.None).ConfigureAwait(false), b => s.ReceiveAsync(b, System.Net.Sockets.SocketFlags.None));

    private static async Task HandshakeAsync(Func<ReadOnlyMemory<byte>, ValueTask> send, Func<Memory<byte>, ValueTask<int>> receive)
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[8] = 1;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        byte[] ready = [0x04, 26, 5, .. "READY"u8, 11, .. "Socket-Type"u8, 0, 0, 0, 4, .. "PUSH"u8];
        await send(greeting.Concat(ready).ToArray()).ConfigureAwait(false);
        await ReadExactlyAsync(receive, 64).ConfigureAwait(false); // the peer's greeting
        var head = await ReadExactlyAsync(receive, 2).ConfigureAwait(false); // its READY command: flags, size
        await ReadExactlyAsync(receive, head[1]).ConfigureAwait(false);
    }

    public static byte[] Frame(byte[] body)
    {
        var frame = new byte[9 + body.Length];
        frame[0] = 0x02; // long frame, last
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(1), (ulong)body.Length);
        body.CopyTo(frame, 9);
        return frame;
    }

    private static async Task<byte[]> ReadExactlyAsync(Func<Memory<byte>, ValueTask<int>> receive, int n)
    {
        var buffer = new byte[n];
        for (var got = 0; got < n;)
        {
            var read = await receive(buffer.AsMemory(got)).ConfigureAwait(false);
            if (read == 0)
                throw new TimeoutException("scale: the NetMQ peer closed during the ZMTP handshake");
            got += read;
        }
        return buffer;
    }
}
