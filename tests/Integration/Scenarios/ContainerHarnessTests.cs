using DotNet.Testcontainers.Configurations;
using Integration.Harness;
using Vmci.TestKit;
using static Integration.Harness.Scenario;

namespace Integration.Scenarios;

/// <summary>What the container harness promises beyond the scenarios: isolation and its own settings.</summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerHarnessTests(DockerEngine engine)
{
    [Fact]
    public async Task Container_NetworkNone_OnlyLoopbackInterface()
    {
        using var watchdog = StartWatchdog();
        var ct = watchdog.Token;
        using var fabric = new TestFabric();

        await using var peer = (PeerContainer)await new ContainerPeers(engine).StartAsync(fabric, 7, ["netifs"], waitForReady: false, ct);
        var exit = await peer.WaitForExitAsync(ct);
        var inspect = await engine.Client!.Containers.InspectContainerAsync(peer.Container.Id, ct);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["netifs lo"], exit.Lines);
        Assert.Equal("none", inspect.HostConfig.NetworkMode);
        Assert.Equal($"{Posix.UserId}:{Posix.GroupId}", inspect.Config.User);
        Assert.Contains(inspect.Mounts, m => m.Source == fabric.Directory && m.Destination == fabric.Directory && m.RW);
    }

    [Fact]
    public void Harness_ResourceReaper_IsDisabled()
    {
        engine.RequireAvailable();

        Assert.False(TestcontainersSettings.ResourceReaperEnabled);
    }
}
