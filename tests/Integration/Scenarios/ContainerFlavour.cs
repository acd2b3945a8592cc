using Integration.Harness;

[assembly: AssemblyFixture(typeof(DockerEngine))]

namespace Integration.Scenarios;

/// <summary>The plain-socket scenarios with peers as containers (<c>--network none</c>).</summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerUdsExchangeTests(DockerEngine engine) : UdsExchangeScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ContainerPeers(engine);
}

/// <summary>The simulator scenarios with peers as containers (<c>--network none</c>).</summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerVsockExchangeTests(DockerEngine engine) : VsockExchangeScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ContainerPeers(engine);
}

/// <summary>The ZeroMQ pattern scenarios with peers as containers (<c>--network none</c>).</summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerZmqPatternTests(DockerEngine engine) : ZmqPatternScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ContainerPeers(engine);
}

/// <summary>The ZeroMQ restart and topology scenarios with peers as containers (<c>--network none</c>).</summary>
/// <param name="engine">The assembly's engine check.</param>
public sealed class ContainerZmqResilienceTests(DockerEngine engine) : ZmqResilienceScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ContainerPeers(engine);
}
