using DotNet.Testcontainers.Containers;

namespace Vmci.TestKit.Testcontainers;

/// <summary>
/// One simulated VM as a container (see <see cref="SimulatedVmBuilder"/>): its CID, its fabric, the Testcontainers
/// container for everything else. Dispose it to remove the container.
/// </summary>
public sealed class SimulatedVm : IAsyncDisposable
{
    internal SimulatedVm(uint cid, string fabricDirectory, IContainer container)
    {
        Cid = cid;
        FabricDirectory = fabricDirectory;
        Container = container;
    }

    /// <summary>The VM's context ID (<c>VMCI_SIM_CID</c> in the container).</summary>
    public uint Cid { get; }

    /// <summary>The fabric directory, mounted at the same path in the container.</summary>
    public string FabricDirectory { get; }

    /// <summary>The Testcontainers container: ID, state, logs, exec, copy.</summary>
    public IContainer Container { get; }

    /// <summary>Starts the container; returns once it runs (or has exited), or once its ready line was logged.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when started.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default) => Container.StartAsync(cancellationToken);

    /// <summary>Stops the VM as a VM is shut down (SIGTERM, then SIGKILL after the engine's grace).</summary>
    /// <param name="cancellationToken">Cancels the stop.</param>
    /// <returns>A task that completes when stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => Container.StopAsync(cancellationToken);

    /// <summary>Waits until the container exits.</summary>
    /// <param name="cancellationToken">Cancels the wait (the container keeps running).</param>
    /// <returns>The exit code.</returns>
    public Task<long> GetExitCodeAsync(CancellationToken cancellationToken = default) => Container.GetExitCodeAsync(cancellationToken);

    /// <summary>Everything the container wrote so far.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Standard output and standard error, lines separated by <c>\n</c>.</returns>
    public async Task<(string Stdout, string Stderr)> GetLogsAsync(CancellationToken cancellationToken = default)
    {
        var (stdout, stderr) = await Container.GetLogsAsync(timestampsEnabled: false, ct: cancellationToken).ConfigureAwait(false);
        return (stdout.ReplaceLineEndings("\n"), stderr.ReplaceLineEndings("\n"));
    }

    /// <summary>Removes the container (stopping it first).</summary>
    /// <returns>A task that completes when removed.</returns>
    public ValueTask DisposeAsync() => Container.DisposeAsync();
}
