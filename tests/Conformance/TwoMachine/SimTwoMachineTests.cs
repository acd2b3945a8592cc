using Conformance.Support;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.TwoMachine;

/// <summary>
/// The two-machine suite on the simulator: this process is the host (CID 2), the agent a second process joined as
/// guest CID 3 on the same temporary fabric. Runs everywhere (also beside the kernel leaves in the guest).
/// </summary>
[Collection(SpawnsProcesses.Name)]
[Trait("Backend", "sim")]
public sealed class SimTwoMachineTests(SimAgentProcess setup) : TwoMachineConformance(setup), IClassFixture<SimAgentProcess>;

/// <summary>A fabric and an agent process on it (CID 3), shared by the cases of <see cref="SimTwoMachineTests"/>.</summary>
public sealed class SimAgentProcess : ITwoMachineSetup, IAsyncLifetime
{
    private readonly TestFabric _fabric = new();
    private PeerProcess? _agent;

    /// <inheritdoc />
    public IVsockNetwork Local => _fabric.Host;

    /// <inheritdoc />
    public VsockAddress Agent { get; private set; }

    /// <inheritdoc />
    public SimFabric? Fabric => _fabric.Fabric;

    /// <inheritdoc />
    public string? SkipReason => null;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        _agent = PeerProcess.Start(AgentMode.Program, ["vmci://*:*"], new Dictionary<string, string?>
        {
            [VmciSettings.BackendVariable] = "sim",
            [SimSettings.FabricVariable] = _fabric.Directory,
            [SimSettings.CidVariable] = "3",
        });
        Agent = await AgentMode.ReadAddressAsync(_agent, VmciCid.FirstGuest, TestContext.Current.CancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_agent is { } agent)
        {
            await agent.StopAsync();
            await agent.DisposeAsync();
        }
        _fabric.Dispose();
    }
}
