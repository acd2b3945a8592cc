using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace Vmci.TestKit.Testcontainers;

/// <summary>
/// One simulated VM as a container (see <see cref="SimulatedVmBuilder"/>): its CID, its fabric, the Testcontainers
/// container for everything else. Dispose it to remove the container.
/// </summary>
public sealed class SimulatedVm : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(15);

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

    /// <summary>
    /// Stops the VM as a VM is shut down: SIGTERM to its main process, then a wait for it to exit; past
    /// <paramref name="grace"/>, Testcontainers' own stop (SIGKILL).
    /// </summary>
    /// <param name="grace">How long the program may take to end after SIGTERM.</param>
    /// <param name="cancellationToken">Cancels the stop.</param>
    /// <returns>A task that completes when stopped.</returns>
    /// <remarks><paramref name="grace"/> defaults to 15 s, Testcontainers' own.</remarks>
    public async Task StopAsync(TimeSpan? grace = null, CancellationToken cancellationToken = default)
    {
        var endpoint = TestcontainersSettings.OS.DockerEndpointAuthConfig
            ?? throw new InvalidOperationException("Testcontainers found no Docker endpoint");
        using var client = endpoint.GetDockerClientBuilder(Guid.Empty).Build();
        try
        {
            await client.Containers.KillContainerAsync(Container.Id, new ContainerKillParameters { Signal = "SIGTERM" }, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException)
        {
            return; // not running any more: already stopped
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(grace ?? DefaultStopGrace);
        try
        {
            await client.Containers.WaitContainerAsync(Container.Id, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await Container.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

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
