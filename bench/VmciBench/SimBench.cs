using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Spectre.Console;
using Vmci;
using Vmci.Sim;

namespace VmciBench;

/// <summary>
/// <c>sim [--quick]</c>: the simulator against raw Unix domain sockets, in one process, side by side: connect+accept
/// rate (connect, accept, close both; sequential) and stream throughput (one connection, 64 KiB sends). Each figure is
/// the median and the best of several alternating rounds. Targets (docs/simulator.md): throughput ≥ 0.95×, connect rate ≥ 0.5× raw.
/// </summary>
public static class SimBench
{
    private const int Chunk = 64 * 1024;

    public static async Task<int> RunAsync(bool quick)
    {
        var connects = quick ? 2_000 : 10_000;
        var bytes = (quick ? 128L : 512L) * 1024 * 1024;
        var rounds = quick ? 5 : 9;
        var root = Path.Combine(Path.GetTempPath(), "vbench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            var fabric = SimFabric.Open(Path.Combine(root, "f"));
            var host = fabric.Join(2);
            var guest = fabric.Join(5);
            Console.WriteLine($"VmciSim vs raw Unix domain sockets — {Environment.ProcessorCount} cores, .NET {Environment.Version}, "
                + $"{connects} connects, {bytes >> 20} MiB streamed per round, {rounds} alternating rounds{(quick ? " (quick)" : "")}");

            // Warm-up (JIT, thread pool) for both.
            await RawConnectRateAsync(root, 200);
            await SimConnectRateAsync(host, guest, 200);
            await RawThroughputAsync(root, 32L << 20);
            await SimThroughputAsync(host, guest, 32L << 20);

            var rawRate = new List<double>();
            var simRate = new List<double>();
            var rawTput = new List<double>();
            var simTput = new List<double>();
            for (var i = 0; i < rounds; i++)
            {
                rawRate.Add(await RawConnectRateAsync(root, connects));
                simRate.Add(await SimConnectRateAsync(host, guest, connects));
                rawTput.Add(await RawThroughputAsync(root, bytes));
                simTput.Add(await SimThroughputAsync(host, guest, bytes));
            }

            // Median: the typical round. Best: the round least disturbed by other processes (the ratio of bests is
            // the fairer comparison on a busy machine).
            var table = new Spectre.Console.Table().Border(TableBorder.Rounded).AddColumn("metric")
                .AddColumn(new TableColumn("raw UDS").RightAligned()).AddColumn(new TableColumn("sim").RightAligned())
                .AddColumn(new TableColumn("sim/raw").RightAligned()).AddColumn("target");
            Row(table, "connect+accept /s median", Median(rawRate), Median(simRate), 0.5);
            Row(table, "connect+accept /s best", rawRate.Max(), simRate.Max(), 0.5);
            Row(table, "stream MiB/s median", Median(rawTput), Median(simTput), 0.95);
            Row(table, "stream MiB/s best", rawTput.Max(), simTput.Max(), 0.95);
            AnsiConsole.Write(table);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Row(Spectre.Console.Table table, string name, double raw, double sim, double target)
    {
        var ratio = sim / raw;
        table.AddRow(name, raw.ToString("F0", CultureInfo.InvariantCulture), sim.ToString("F0", CultureInfo.InvariantCulture),
            ratio.ToString("F2", CultureInfo.InvariantCulture), string.Create(CultureInfo.InvariantCulture, $"≥ {target:F2}: {(ratio >= target ? "[green]ok[/]" : "[red]MISSED[/]")}"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static async Task<double> RawConnectRateAsync(string root, int count)
    {
        var path = Path.Combine(root, "raw.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(128);
        var endpoint = new UnixDomainSocketEndPoint(path);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var accept = listener.AcceptAsync();
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(endpoint);
            var server = await accept;
            client.Dispose();
            server.Dispose();
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> SimConnectRateAsync(SimNetwork host, SimNetwork guest, int count)
    {
        using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(5, listener.LocalAddress.Port);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var accept = listener.AcceptAsync();
            var client = await host.ConnectAsync(target);
            var server = await accept;
            client.Dispose();
            server.Dispose();
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawThroughputAsync(string root, long total)
    {
        var path = Path.Combine(root, "rawt.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var accept = listener.AcceptAsync();
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        using var server = await accept;
        var watch = Stopwatch.StartNew();
        var send = Task.Run(async () =>
        {
            ReadOnlyMemory<byte> data = new byte[Chunk];
            for (long sent = 0; sent < total; sent += Chunk)
            {
                for (var rest = data; !rest.IsEmpty;)
                    rest = rest[await client.SendAsync(rest, SocketFlags.None)..];
            }
        });
        Memory<byte> buffer = new byte[Chunk];
        for (long received = 0; received < total;)
            received += await server.ReceiveAsync(buffer, SocketFlags.None);
        await send;
        return total / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> SimThroughputAsync(SimNetwork host, SimNetwork guest, long total)
    {
        using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync();
        using var client = await host.ConnectAsync(new VsockAddress(5, listener.LocalAddress.Port));
        using var server = await accept;
        var watch = Stopwatch.StartNew();
        var send = Task.Run(async () =>
        {
            var data = new byte[Chunk];
            for (long sent = 0; sent < total; sent += Chunk)
                await client.SendAsync(data);
        });
        var buffer = new byte[Chunk];
        for (long received = 0; received < total;)
            received += await server.ReceiveAsync(buffer);
        await send;
        return total / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;
    }
}
