using BenchmarkDotNet.Running;

namespace VmciBench;

/// <summary>
/// Entry point. <c>e2e [--quick] [--json FILE]</c>: the end-to-end table (NetMQ tcp vs vmci);
/// <c>sim [--quick]</c>: simulator vs raw Unix domain sockets; anything else goes to BenchmarkDotNet.
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
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return await Task.FromResult(0);
        }
    }
}
