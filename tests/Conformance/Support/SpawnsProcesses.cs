namespace Conformance.Support;

/// <summary>
/// The classes that start child processes (socat, the agent) run alone, after the parallel ones. Starting a process
/// forks: for a moment the child holds a copy of every descriptor of this process, listening vsock sockets included,
/// so a listener the suite has just closed stays bound until the child has exec'd — and a case that rebinds the port at
/// once (SPEC §8: the port is free when unbind returns) got EADDRINUSE in the guest now and then. POSIX semantics, the
/// same for any program that forks; the suite keeps its own cases apart from it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SpawnsProcesses
{
    public const string Name = "spawns processes";
}
