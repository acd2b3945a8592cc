using Integration.Harness;

namespace Integration.Scenarios;

/// <summary>The plain-socket scenarios with peers as child processes.</summary>
public sealed class ProcessUdsExchangeTests : UdsExchangeScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ProcessPeers();
}

/// <summary>The simulator scenarios with peers as child processes.</summary>
public sealed class ProcessVsockExchangeTests : VsockExchangeScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ProcessPeers();
}

/// <summary>The ZeroMQ pattern scenarios with peers as child processes.</summary>
public sealed class ProcessZmqPatternTests : ZmqPatternScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ProcessPeers();
}

/// <summary>The ZeroMQ restart and topology scenarios with peers as child processes.</summary>
public sealed class ProcessZmqResilienceTests : ZmqResilienceScenarios
{
    /// <inheritdoc/>
    protected override IPeerLauncher Peers { get; } = new ProcessPeers();
}
