using System.Diagnostics;
using Vmci;
using Vmci.TestKit.Agent;
using Vmci.Transport;

namespace Conformance.TwoMachine;

/// <summary>
/// This executable as a two-machine agent: started with <see cref="Variable"/> = the address to bind, it serves
/// <see cref="AgentServer"/> on the backend of its environment, prints <c>agent: listening on ADDRESS</c> and stops when
/// its standard input ends.
/// </summary>
internal static class AgentMode
{
    public const string Variable = "VMCI_CONFORMANCE_AGENT";

    private const string Ready = "agent: listening on ";

    public static bool IsRequested => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 };

    /// <summary>The agent program.</summary>
    public static int Run()
    {
        try
        {
            var network = VmciNetwork.FromEnvironment();
            var address = VmciEndpoint.Parse(Environment.GetEnvironmentVariable(Variable)!).Resolve(network.GetLocalCid);
            var agent = AgentServer.Start(network, address, Console.Error);
            Console.WriteLine(Ready + agent.Address);
            Console.Out.Flush();
            Console.In.ReadToEnd();
            agent.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        }
        catch (VmciException e)
        {
            Console.Error.WriteLine($"agent: {e.Message}");
            return 3;
        }
    }

    /// <summary>How to start this executable as an agent bound to <paramref name="bind"/>.</summary>
    public static ProcessStartInfo StartInfo(string bind)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Conformance.exe" : "Conformance");
        var start = new ProcessStartInfo(apphost) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.Environment[Variable] = bind;
        return start;
    }

    /// <summary>Reads the agent's ready line: the address to reach it at, on machine <paramref name="cid"/>.</summary>
    public static async Task<VsockAddress> ReadAddressAsync(Process agent, uint cid, CancellationToken ct)
    {
        var line = await agent.StandardOutput.ReadLineAsync(ct)
            ?? throw new InvalidOperationException($"the agent exited ({(agent.HasExited ? agent.ExitCode : -1)}) before it listened");
        if (!line.StartsWith(Ready, StringComparison.Ordinal))
            throw new InvalidOperationException($"the agent said '{line}' instead of '{Ready}ADDRESS'");
        var bound = VmciEndpoint.Parse(line[Ready.Length..]).Resolve(() => cid);
        return new VsockAddress(cid, bound.Port);
    }
}
