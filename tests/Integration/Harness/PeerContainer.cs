using System.Globalization;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Integration.Peer;
using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>
/// A peer run in a container of <see cref="DockerEngine.PeerImage"/>: <c>--network none</c>, the fabric
/// bind-mounted at the same path, the host's uid:gid, never pulled, always removed on dispose.
/// </summary>
public sealed class PeerContainer : IPeer
{
    /// <summary>The label carrying the fabric path, to find a test's containers.</summary>
    public const string FabricLabel = "vmci-harness.fabric";

    private PeerContainer(uint cid, IContainer container)
    {
        Cid = cid;
        Container = container;
    }

    /// <inheritdoc/>
    public uint Cid { get; }

    /// <inheritdoc/>
    public string? ReadyLine { get; private set; }

    /// <summary>The Testcontainers container.</summary>
    public IContainer Container { get; }

    /// <summary>Starts a peer container; with <paramref name="waitForReady"/>, returns once it logged <c>ready</c>.</summary>
    /// <param name="fabric">The fabric, bind-mounted read-write at the same path.</param>
    /// <param name="cid">The peer's context ID (VMCI_SIM_CID).</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to wait for the <c>ready</c> line.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running peer.</returns>
    public static async Task<PeerContainer> StartAsync(TestFabric fabric, uint cid, IEnumerable<string> args, bool waitForReady, CancellationToken ct)
    {
        var user = $"{Posix.UserId}:{Posix.GroupId}";
        var builder = new ContainerBuilder()
            .WithImage(DockerEngine.PeerImage)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithName($"vmci-peer-{cid}-{Guid.NewGuid():N}")
            .WithLabel(FabricLabel, fabric.Directory)
            .WithCommand(["peer", .. args])
            .WithEnvironment(PeerProgram.CidVariable, cid.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment(PeerProgram.FabricVariable, fabric.Directory)
            .WithBindMount(fabric.Directory, fabric.Directory, AccessMode.ReadWrite)
            .WithCreateParameterModifier(p =>
            {
                p.User = user;
                p.HostConfig.NetworkMode = "none";
            });
        builder = waitForReady
            ? builder.WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("^ready "))
            : builder.WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(new RunningOrExited()));
        var container = builder.Build();
        var peer = new PeerContainer(cid, container);
        try
        {
            await container.StartAsync(ct);
            if (waitForReady)
            {
                var (stdout, _) = await container.GetLogsAsync(timestampsEnabled: false, ct: ct);
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
        var exitCode = await Container.GetExitCodeAsync(ct);
        var (stdout, stderr) = await Container.GetLogsAsync(timestampsEnabled: false, ct: ct);
        return new PeerExit(exitCode, stdout.ReplaceLineEndings("\n"), stderr);
    }

    /// <inheritdoc/>
    public async Task<PeerExit> StopAsync(CancellationToken ct)
    {
        await Container.StopAsync(ct);
        return await WaitForExitAsync(ct);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Container.DisposeAsync();

    /// <summary>A peer that connects may finish before a "running" check sees it: exited counts as started.</summary>
    private sealed class RunningOrExited : IWaitUntil
    {
        public Task<bool> UntilAsync(IContainer container) =>
            Task.FromResult(container.State is TestcontainersStates.Running or TestcontainersStates.Exited);
    }
}
