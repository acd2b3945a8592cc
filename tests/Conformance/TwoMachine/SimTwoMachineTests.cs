using System.Diagnostics;
using Conformance.Support;
using Vmci;
using Vmci.Sim;

namespace Conformance.TwoMachine;

/// <summary>
/// The two-machine suite on the simulator: this process is the host (CID 2), the agent a second process joined as
/// guest CID 3 on the same temporary fabric. Runs everywhere (also beside the kernel leaves in the guest).
/// </summary>
[Trait("Backend", "sim")]
public sealed class SimTwoMachineTests(SimAgentProcess setup) : TwoMachineConformance(setup), IClassFixture<SimAgentProcess>;

/// <summary>A fabric and an agent process on it (CID 3), shared by the cases of <see cref="SimTwoMachineTests"/>.</summary>
public sealed class SimAgentProcess : ITwoMachineSetup, IAsyncLifetime
{
    private readonly TempFabric _fabric = new();
    private Process? _process;

    /// <inheritdoc />
    public IVsockNetwork Local => _fabric.Fabric.Join(VmciCid.Host);

    /// <inheritdoc />
    public VsockAddress Agent { get; private set; }

    /// <inheritdoc />
    public SimFabric? Fabric => _fabric.Fabric;

    /// <inheritdoc />
    public string? SkipReason => null;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var start = AgentMode.StartInfo("vmci://*:*");
        start.Environment["VMCI_BACKEND"] = "sim";
        start.Environment[SimSettings.FabricVariable] = _fabric.Fabric.Directory;
        start.Environment[SimSettings.CidVariable] = "3";
        _process = Process.Start(start) ?? throw new InvalidOperationException("the agent process did not start");
        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Agent = await AgentMode.ReadAddressAsync(_process, VmciCid.FirstGuest, watchdog.Token);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            process.StandardInput.Close(); // the agent ends when its stdin does
            using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(watchdog.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
        _fabric.Dispose();
    }
}
