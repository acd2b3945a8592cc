using Vmci;
using Vmci.TestKit;
using Vmci.TestKit.Agent;
using Vmci.Transport;

namespace Conformance.TwoMachine;

/// <summary>
/// This executable as a two-machine agent, through the test kit's <see cref="PeerProcess"/>: the peer program
/// <c>agent BIND</c> serves <see cref="AgentServer"/> on the backend of its environment, prints
/// <c>agent: listening on ADDRESS</c> and stops when the parent asks.
/// </summary>
internal static class AgentMode
{
    public const string Program = "agent";

    private const string Ready = "agent: listening on ";

    /// <summary>The peer programs of this executable.</summary>
    public static IReadOnlyDictionary<string, Func<string[], Task<int>>> Programs { get; } =
        new Dictionary<string, Func<string[], Task<int>>> { [Program] = RunAsync };

    /// <summary>Reads the agent's ready line: the address to reach it at, on machine <paramref name="cid"/>.</summary>
    public static async Task<VsockAddress> ReadAddressAsync(PeerProcess agent, uint cid, CancellationToken ct)
    {
        var line = await agent.ReadLineAsync(ct);
        if (!line.StartsWith(Ready, StringComparison.Ordinal))
            throw new InvalidOperationException($"the agent said '{line}' instead of '{Ready}ADDRESS'");
        return new VsockAddress(cid, VmciEndpoint.Parse(line[Ready.Length..]).Resolve(() => cid).Port);
    }

    private static async Task<int> RunAsync(string[] args)
    {
        var network = VmciNetwork.FromEnvironment();
        var address = VmciEndpoint.Parse(args.Length > 0 ? args[0] : "vmci://*:*").Resolve(network.GetLocalCid);
        var agent = AgentServer.Start(network, address, Console.Error);
        await using (agent)
        {
            Console.WriteLine(Ready + agent.Address);
            Console.Out.Flush();
            await PeerProcess.StopRequested;
        }
        return 0;
    }
}
