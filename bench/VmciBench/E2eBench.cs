using System.Globalization;
using System.Text.Json;
using NetMQ;
using Vmci;
using Vmci.Sim;
using Vmci.Transport;

namespace VmciBench;

/// <summary>
/// <c>e2e [--quick] [--guard] [--rounds N] [--sizes 16,1024] [--paths tcp,direct,relay,uds] [--no-scale] [--backend sim|vsock] [--json FILE] [--plot FILE.svg]</c>: one table,
/// one run — PUSH/PULL throughput and CPU per message at 16 B, 1 KiB, 64 KiB, 1 MiB and REQ/REP round trips for NetMQ tcp
/// loopback (the baseline), NetMQ vmci in direct mode and in relay mode (over the simulator, or over the kernel with
/// <c>--backend vsock</c>, guest only) and a raw length-prefixed Unix domain socket stream (the physical limit). Paths
/// alternate round by round (tcp, direct, relay, uds, tcp, ...) so that load from other processes hits them alike; a
/// round lasts about 0.15 s (quick) or 0.4 s (full) on the baseline (its count is sized by a probe); each figure is the
/// median of its rounds, each ratio the median of the per-round ratios. Then the scale checks (sim only).
/// </summary>
public static class E2eBench
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    internal static int Run(E2eOptions options)
    {
        var quick = options.Quick;
        var backend = options.Backend;
        var rounds = options.Rounds ?? (quick ? 7 : 11);
        if (backend == "vsock" && Environment.GetEnvironmentVariable("VMCI_BACKEND") != "vsock")
        {
            Console.Error.WriteLine("VmciBench e2e --backend vsock: refused — VMCI_BACKEND=vsock is not set. The kernel backend runs only inside "
                + "the QEMU guest (eng/guest-run.sh sets it); on the host /dev/vsock belongs to the hypervisor.");
            return 2;
        }
        var dir = Directory.CreateTempSubdirectory("vmci-bench-").FullName;
        try
        {
            var fabric = backend == "sim" ? SimFabric.Open(Path.Combine(dir, "fabric")) : null;
            BenchPath Vmci(VmciTransportMode mode) => backend == "sim"
                ? Paths.Vmci($"vmci {mode.ToString().ToLowerInvariant()}", fabric!.Join(VmciCid.Host), fabric.Join(VmciCid.FirstGuest), VmciCid.Host, mode)
                : Paths.Vmci($"vmci {mode.ToString().ToLowerInvariant()}", VmciNetwork.Kernel, VmciNetwork.Kernel, VmciCid.Local, mode);
            // --paths: a subset in the order given (the first is the baseline of the ratios); the targets need all four.
            var paths = options.Paths.Select(name => name switch
            {
                "tcp" => Paths.Tcp(),
                "direct" => Vmci(VmciTransportMode.Direct),
                "relay" => Vmci(VmciTransportMode.Relay),
                _ => Paths.Uds(Path.Combine(dir, "raw.sock")),
            }).ToArray();
            // Scale first, so that the memory figures are not blurred by the heap of the table's runs.
            var scale = fabric is null || !options.Scale ? null : ScaleBench.Run(fabric, quick);
            var table = new Table([.. paths.Select(p => p.Name)]);
            Console.WriteLine();
            Console.WriteLine($"e2e {(quick ? "quick" : "full")} backend={backend} rounds={rounds}  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  "
                + $"{Environment.ProcessorCount} cpus  load {Load()}  {System.Runtime.InteropServices.RuntimeInformation.OSDescription}  .NET {Environment.Version}");
            var failures = 0;
            // Warm-up, not counted: the JIT compiles every path's code (tiered compilation) before the first measured round.
            foreach (var path in paths)
            {
                Measure(() => path.Throughput(1024, 5000), ref failures);
                Measure(() => path.RoundTrips(300), ref failures);
            }
            // Rounds last about this long on the baseline path: counts fixed in bytes made a 1 KiB round 12 ms long in a
            // quick run, and one scheduler hiccup then doubled a ratio (a CI guard that could flake).
            var roundSeconds = quick ? 0.15 : 0.4;
            foreach (var size in options.Sizes)
            {
                long budget = quick ? 4L << 20 : 32L << 20;
                var count = (int)Math.Clamp(budget / size, 200, quick ? 40_000 : 300_000);
                if (backend == "vsock")
                    count = Math.Max(50, count / 20); // TCG guests are slow: counts stay fixed there
                else if (Measure(() => paths[0].Throughput(size, count), ref failures) is { MsgPerSec: > 0 } probe)
                    count = (int)Math.Clamp(probe.MsgPerSec * roundSeconds, 200, 5_000_000);
                var results = Rounds(paths, p => p.Throughput(size, count), rounds, ref failures);
                table.Row($"push/pull {Label(size)} msg/s", Each(results, t => t.MsgPerSec), true, size);
                table.Row($"push/pull {Label(size)} MB/s", Each(results, t => t.MBPerSec), true, size);
                table.Row($"push/pull {Label(size)} cpu us/msg", Each(results, t => t.CpuUsPerMsg), false, size);
            }
            var trips = backend == "vsock" ? 100 : quick ? 400 : 2000;
            if (backend != "vsock" && Measure(() => paths[0].RoundTrips(trips), ref failures) is { P50: > 0 } rtt)
                trips = (int)Math.Clamp(roundSeconds * 1e6 / rtt.P50, trips, 50_000);
            var rtts = Rounds(paths, p => p.RoundTrips(trips), rounds, ref failures);
            table.Row("req/rep p50 us", Each(rtts, l => l.P50), false, 0);
            table.Row("req/rep p99 us", Each(rtts, l => l.P99), false, 0);
            table.Row("req/rep cpu us/trip", Each(rtts, l => l.CpuUsPerTrip), false, 0);
            table.Render();
            var checks = paths.Length == 4 && paths[0].Name == "tcp" ? Targets.Check(table, paths[1].Name, paths[2].Name) : [];
            if (options.Json is { } jsonFile)
            {
                File.WriteAllText(jsonFile, JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["date"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                    ["cpus"] = Environment.ProcessorCount,
                    ["load"] = Load(),
                    ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                    ["quick"] = quick,
                    ["rounds"] = rounds,
                    ["backend"] = backend,
                    ["paths"] = table.Paths,
                    ["rows"] = table.Rows,
                    ["targets"] = checks,
                    ["scale"] = scale,
                }, JsonOptions));
            }
            if (options.Plot is { } plotFile)
                Plot.Write(plotFile, table, $"NetMQ PUSH/PULL throughput, {(quick ? "quick" : "full")} run, {DateTime.UtcNow:yyyy-MM-dd}");
            if (failures > 0)
            {
                Console.Error.WriteLine($"e2e: {failures} measurement(s) FAILED (see above)");
                return 1;
            }
            return options.Guard ? Targets.Guard(checks) : 0;
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    // Alternating rounds (tcp, direct, relay, uds, tcp, ...): result[path][round].
    private static T[][] Rounds<T>(BenchPath[] paths, Func<BenchPath, T> run, int rounds, ref int failures)
        where T : struct
    {
        var samples = paths.Select(_ => new T[rounds]).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < paths.Length; i++)
            {
                var path = paths[i];
                samples[i][round] = Measure(() => run(path), ref failures);
            }
        }
        return samples;
    }

    private static double[][] Each<T>(T[][] samples, Func<T, double> value) => [.. samples.Select(s => s.Select(value).ToArray())];

    private static T Measure<T>(Func<T> run, ref int failures) where T : struct
    {
        try
        {
            return run();
        }
        catch (TimeoutException e)
        {
            Console.Error.WriteLine("  FAILED: " + e.Message);
            failures++;
            return default;
        }
    }

    /// <summary>The 1-minute load average (Linux), for the record.</summary>
    internal static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    internal static string Label(int size) => size switch
    {
        >= 1 << 20 => $"{size >> 20} MiB",
        >= 1 << 10 => $"{size >> 10} KiB",
        _ => $"{size} B",
    };
}
