using System.Globalization;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Images;
using Vmci.Sim;
using Vmci.TestKit.Testcontainers.Internal;

namespace Vmci.TestKit.Testcontainers;

/// <summary>
/// Builds a <see cref="SimulatedVm"/>: a container of your image that is one simulated VM of a fabric — the fabric
/// directory bind-mounted read-write at the same path, <c>VMCI_SIM_FABRIC</c> and <c>VMCI_SIM_CID</c> set,
/// <c>--network none</c> (the fabric is its only way out), the caller's uid:gid, the image never pulled.
/// Each <c>With…</c> returns a new builder; <see cref="Build"/> checks the settings.
/// </summary>
/// <example>
/// <code>
/// using var fabric = new FabricBuilder().Build();
/// await using var vm = new SimulatedVmBuilder("my-app:dev").WithFabric(fabric).WithCid(3).WithCommand("serve").WaitForLogLine("^listening").Build();
/// await vm.StartAsync(ct);
/// </code>
/// </example>
/// <remarks>
/// The image needs the program and what it runs on (for a .NET program, a self-contained publish and a C library);
/// nothing is pulled. Testcontainers' resource reaper (Ryuk) comes from a registry: where there is none, set
/// <c>TESTCONTAINERS_RYUK_DISABLED=true</c> and dispose every <see cref="SimulatedVm"/>. The Docker API version is
/// pinned to 1.41 when unset (<see cref="DockerApi.EnsureCompatibleVersion"/>).
/// </remarks>
public sealed record SimulatedVmBuilder
{
    /// <summary>The label every simulated VM carries, with its fabric directory as the value: to find a fabric's containers.</summary>
    public const string FabricLabel = "vmci-harness.fabric";


    static SimulatedVmBuilder() => DockerApi.EnsureCompatibleVersion();

    /// <summary>A builder for containers of <paramref name="image"/> (present on the engine: never pulled).</summary>
    /// <param name="image">The image, e.g. <c>my-app:dev</c>.</param>
    public SimulatedVmBuilder(string image)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        Image = image;
    }

    /// <summary>The image.</summary>
    public string Image { get; }

    /// <summary>The fabric directory (absolute) mounted into the container; required.</summary>
    public string? FabricDirectory { get; private init; }

    /// <summary>The VM's context ID (<c>VMCI_SIM_CID</c>); required.</summary>
    public uint? Cid { get; private init; }

    /// <summary>The container's command (the image's entry point gets it as arguments).</summary>
    /// <remarks>Defaults to the image's own command.</remarks>
    public IReadOnlyList<string> Command { get; private init; } = [];

    /// <summary>A regular expression the container's output must match before <see cref="SimulatedVm.StartAsync"/> returns.</summary>
    /// <remarks>Defaults to none: start returns once the container runs, or has already exited.</remarks>
    public string? ReadyLogPattern { get; private init; }

    /// <summary>The fabric of a <see cref="TestFabric"/>.</summary>
    /// <param name="fabric">The fabric.</param>
    /// <returns>The new builder.</returns>
    public SimulatedVmBuilder WithFabric(TestFabric fabric)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        return WithFabric(fabric.Directory);
    }

    /// <summary>The fabric directory, shared with the host and the other simulated VMs.</summary>
    /// <param name="directory">An absolute path to an existing directory.</param>
    /// <returns>The new builder.</returns>
    public SimulatedVmBuilder WithFabric(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return this with { FabricDirectory = directory };
    }

    /// <summary>The VM's context ID.</summary>
    /// <param name="cid">3 to 4294967294 for a guest (2 is the host).</param>
    /// <returns>The new builder.</returns>
    public SimulatedVmBuilder WithCid(uint cid) => this with { Cid = cid };

    /// <summary>The container's command.</summary>
    /// <param name="command">The arguments for the image's entry point.</param>
    /// <returns>The new builder.</returns>
    public SimulatedVmBuilder WithCommand(params string[] command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return this with { Command = [.. command] };
    }

    /// <summary>Start returns only once the container's output has a line matching <paramref name="pattern"/>.</summary>
    /// <param name="pattern">A .NET regular expression, e.g. <c>^ready </c>.</param>
    /// <returns>The new builder.</returns>
    public SimulatedVmBuilder WaitForLogLine(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        return this with { ReadyLogPattern = pattern };
    }

    /// <summary>Anything else Testcontainers can set (environment, labels, more mounts), applied after the module's own settings.</summary>
    /// <param name="customize">Changes the Testcontainers builder and returns it.</param>
    /// <returns>The new builder.</returns>
    /// <remarks>Changing the network, the fabric mount or <c>VMCI_SIM_*</c> here makes the container something other than a simulated VM.</remarks>
    public SimulatedVmBuilder WithContainer(Func<ContainerBuilder, ContainerBuilder> customize)
    {
        ArgumentNullException.ThrowIfNull(customize);
        return this with { Customizations = [.. Customizations, customize] };
    }

    private IReadOnlyList<Func<ContainerBuilder, ContainerBuilder>> Customizations { get; init; } = [];

    /// <summary>Checks the settings and creates the container (not started).</summary>
    /// <returns>The simulated VM; dispose it to remove the container.</returns>
    /// <exception cref="ArgumentException">No fabric, a relative or missing fabric directory, no CID or a reserved one.</exception>
    public SimulatedVm Build()
    {
        if (FabricDirectory is null)
            throw new ArgumentException("a simulated VM needs a fabric: WithFabric(…)");
        if (!Path.IsPathFullyQualified(FabricDirectory) || !Directory.Exists(FabricDirectory))
            throw new ArgumentException($"the fabric directory '{FabricDirectory}' must be an absolute path to an existing directory");
        if (Cid is not { } cid)
            throw new ArgumentException("a simulated VM needs a context ID: WithCid(…)");
        if (cid is < VmciCid.Host or >= VmciCid.Any)
            throw new ArgumentException($"CID {cid} is reserved: a simulated VM's CID is 2 to 4294967294");

        var user = string.Create(CultureInfo.InvariantCulture, $"{Posix.UserId}:{Posix.GroupId}");
        var builder = new ContainerBuilder(Image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithName(string.Create(CultureInfo.InvariantCulture, $"vmci-vm-{cid}-{Guid.NewGuid():N}"))
            .WithLabel(FabricLabel, FabricDirectory)
            .WithEnvironment(SimSettings.CidVariable, cid.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment(SimSettings.FabricVariable, FabricDirectory)
            .WithBindMount(FabricDirectory, FabricDirectory, AccessMode.ReadWrite)
            .WithCreateParameterModifier(p =>
            {
                p.User = user;
                p.HostConfig ??= new HostConfig();
                p.HostConfig.NetworkMode = "none";
            });
        if (Command.Count > 0)
            builder = builder.WithCommand([.. Command]);
        builder = ReadyLogPattern is { } pattern
            ? builder.WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged(pattern))
            : builder.WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(
                // OneShot: a program that exits at once (before the first readiness check) is ready too, not a failure.
                new RunningOrExited(), o => o.WithMode(WaitStrategyMode.OneShot)));
        foreach (var customize in Customizations)
            builder = customize(builder);
        return new SimulatedVm(cid, FabricDirectory, builder.Build());
    }
}
