using DotNet.Testcontainers.Containers;
using Vmci.TestKit;
using Vmci.TestKit.Testcontainers;

namespace Integration.Harness;

/// <summary>
/// A peer run in a container of <see cref="DockerEngine.PeerImage"/>, a simulated VM of the kit's Testcontainers module
/// (<see cref="SimulatedVmBuilder"/>: <c>--network none</c>, the fabric bind-mounted at the same path, the host's
/// uid:gid, never pulled), always removed on dispose.
/// </summary>
public sealed class PeerContainer : IPeer
{
    /// <summary>The label carrying the fabric path, to find a test's containers.</summary>
    public const string FabricLabel = SimulatedVmBuilder.FabricLabel;

    private PeerContainer(uint cid, SimulatedVm vm)
    {
        Cid = cid;
        Vm = vm;
    }

    /// <inheritdoc/>
    public uint Cid { get; }

    /// <inheritdoc/>
    public string? ReadyLine { get; private set; }

    /// <summary>The simulated VM (Vmci.TestKit.Testcontainers).</summary>
    public SimulatedVm Vm { get; }

    /// <summary>The Testcontainers container.</summary>
    public IContainer Container => Vm.Container;

    /// <summary>Starts a peer container; with <paramref name="waitForReady"/>, returns once it logged <c>ready</c>.</summary>
    /// <param name="fabric">The fabric, bind-mounted read-write at the same path.</param>
    /// <param name="cid">The peer's context ID (VMCI_SIM_CID).</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to wait for the <c>ready</c> line.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running peer.</returns>
    public static async Task<PeerContainer> StartAsync(TestFabric fabric, uint cid, IEnumerable<string> args, bool waitForReady, CancellationToken ct)
    {
        var builder = new SimulatedVmBuilder(DockerEngine.PeerImage).WithFabric(fabric).WithCid(cid).WithCommand(["peer", .. args]);
        if (waitForReady)
            builder = builder.WaitForLogLine("^ready ");
        var vm = builder.Build();
        var peer = new PeerContainer(cid, vm);
        try
        {
            await vm.StartAsync(ct);
            if (waitForReady)
            {
                var (stdout, _) = await vm.GetLogsAsync(ct);
                peer.ReadyLine = stdout.ReplaceLineEndings("\n").Split('\n').First(line => line.StartsWith("ready ", StringComparison.Ordinal));
            }

            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<PeerExit> WaitForExitAsync(CancellationToken ct)
    {
        var exitCode = await Vm.GetExitCodeAsync(ct);
        var (stdout, stderr) = await Vm.GetLogsAsync(ct);
        return new PeerExit(exitCode, stdout, stderr);
    }

    /// <inheritdoc/>
    public async Task<PeerExit> StopAsync(CancellationToken ct)
    {
        await Vm.StopAsync(cancellationToken: ct);
        return await WaitForExitAsync(ct);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Vm.DisposeAsync();
}
