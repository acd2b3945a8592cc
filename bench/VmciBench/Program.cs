using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace VmciBench;

/// <summary>
/// Entry point. <c>e2e [--quick] [--guard] [--backend sim|vsock] [--json FILE] [--plot FILE.svg]</c>: the
/// end-to-end table (NetMQ tcp vs vmci vs raw UDS) and the scale checks; <c>sim [--quick]</c>: simulator vs raw
/// Unix domain sockets; <c>micro [BenchmarkDotNet args]</c>: the micro-benchmarks (short in-process job).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var command = args.Length > 0 ? args[0] : "";
        var rest = args.Skip(1).ToArray();
        switch (command)
        {
            case "e2e":
                return E2eBench.Run(rest);
            case "sim":
                return await SimBench.RunAsync(rest);
            case "micro":
                var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
                return 0;
            default:
                Console.Error.WriteLine("usage: VmciBench e2e [--quick] [--guard] [--backend sim|vsock] [--json FILE] [--plot FILE.svg]"
                    + " | sim [--quick] | micro [--filter PATTERN]");
                return 2;
        }
    }
}
