using Docker.DotNet.Models;
using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>
/// Peers as containers of <see cref="DockerEngine.PeerImage"/> (see <see cref="PeerContainer"/>). Every
/// start first asks <see cref="DockerEngine.RequireAvailable"/>: skipped without an engine, failed under CI.
/// </summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerPeers(DockerEngine engine) : IPeerLauncher
{
    /// <inheritdoc/>
    public async Task<IPeer> StartAsync(TestFabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct)
    {
        engine.RequireAvailable();
        return await PeerContainer.StartAsync(fabric, cid, args, waitForReady, ct);
    }

    /// <inheritdoc/>
    /// <remarks>Asks the engine for every container, running or not, labelled with this fabric.</remarks>
    public async Task<int> CountAsync(TestFabric fabric, CancellationToken ct)
    {
        engine.RequireAvailable();
        var containers = await engine.Client!.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{PeerContainer.FabricLabel}={fabric.Directory}"] = true },
                },
            },
            ct);
        return containers.Count;
    }
}
