using Docker.DotNet.Models;
using DotNet.Testcontainers.Configurations;
using Integration.Harness;

[assembly: AssemblyFixture(typeof(DockerEngine))]

namespace Integration.Scenarios;

/// <summary>
/// The exchange scenarios with peers as containers (<c>--network none</c>), plus what only containers
/// promise: no network but loopback, and the harness's own settings.
/// </summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerUdsExchangeTests(DockerEngine engine) : UdsExchangeScenarios
{
    [Fact]
    public async Task Container_NetworkNone_OnlyLoopbackInterface()
    {
        using var watchdog = Watchdog();
        var ct = watchdog.Token;
        using var fabric = Fabric.Create();

        await using var peer = (PeerContainer)await StartPeerAsync(fabric, 7, ["netifs"], waitForReady: false, ct);
        var exit = await peer.WaitForExitAsync(ct);
        var inspect = await engine.Client!.Containers.InspectContainerAsync(peer.Container.Id, ct);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["netifs lo"], exit.Lines);
        Assert.Equal("none", inspect.HostConfig.NetworkMode);
        Assert.Equal($"{Posix.UserId}:{Posix.GroupId}", inspect.Config.User);
        Assert.Contains(inspect.Mounts, m => m.Source == fabric.Path && m.Destination == fabric.Path && m.RW);
    }

    [Fact]
    public void Harness_ResourceReaper_IsDisabled()
    {
        engine.RequireAvailable();

        Assert.False(TestcontainersSettings.ResourceReaperEnabled);
    }

    /// <inheritdoc/>
    protected override async Task<IPeer> StartPeerAsync(Fabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct)
    {
        engine.RequireAvailable();
        return await PeerContainer.StartAsync(fabric, cid, args, waitForReady, ct);
    }

    /// <inheritdoc/>
    /// <remarks>Asks the engine for every container, running or not, labelled with this fabric.</remarks>
    protected override async Task<int> CountPeersAsync(Fabric fabric, CancellationToken ct)
    {
        var containers = await engine.Client!.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{PeerContainer.FabricLabel}={fabric.Path}"] = true },
                },
            },
            ct);
        return containers.Count;
    }
}
