using Spectre.Console;
using Vmci.TestKit.Agent;
using Vmci.Transport;

namespace Vmci.Cli.Conformance;

/// <summary>Before a two-machine run: reaches the peer's agent once and names both machines.</summary>
internal static class PeerCheck
{
    /// <summary>How the suite learns the peer (Conformance.TwoMachine.PeerAgent.Variable).</summary>
    public const string Variable = "VMCI_CONFORMANCE_PEER";

    /// <summary>The suite's leaf that runs against a peer agent (<c>[Trait("Backend", "peer")]</c>: PeerTwoMachineTests).</summary>
    public const string Leaf = "peer";

    /// <summary>Greets the agent at <paramref name="target"/>; prints both machines, or why it could not, and returns null then.</summary>
    public static async Task<(PeerMachine Local, PeerMachine Peer)?> DescribeAsync(string backend, string target, CancellationToken ct)
    {
        try
        {
            var settings = VmciSettings.FromEnvironment() with { Backend = VmciSettings.ParseBackend(backend, "--backend") };
            var network = settings.CreateNetwork();
            var address = VmciEndpoint.Parse(target).Resolve(network.GetLocalCid);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            using var agent = await AgentClient.ConnectAsync(network, address, timeout.Token).ConfigureAwait(false);
            var local = PeerMachine.Describe(network, "");
            AnsiConsole.MarkupLine($"Two machines: this one, {Markup.Escape(local.ToString())} ↔ the peer, {Markup.Escape(agent.Machine.ToString())} (agent {Markup.Escape(target)})");
            return (local, agent.Machine);
        }
        catch (VmciException e)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] cannot reach the agent at {Markup.Escape(target)}: {Markup.Escape(e.Message)}");
            return null;
        }
    }
}
