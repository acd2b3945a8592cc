using Vmci;
using Vmci.Sim;
using Vmci.TestKit.Agent;

namespace Conformance.TwoMachine;

/// <summary>Which machine holds the listener (binds) in a two-machine case; the other one connects.</summary>
public enum Listener
{
    /// <summary>This process listens, the agent's machine connects.</summary>
    Local,

    /// <summary>The agent's machine listens, this process connects.</summary>
    Peer,
}

/// <summary>
/// THE two-machine suite (SPEC §9): every behaviour of §2–§5 and §8 that involves a peer, with the listener on one machine
/// and the connector on another — this process and an agent (<see cref="AgentServer"/>, <c>vmci agent</c>) with another
/// CID — in both directions. Written once against <see cref="IMachine"/>; each setup is a thin leaf that says where the
/// agent is. Every case's name contains <c>TwoMachine</c>.
/// </summary>
public abstract partial class TwoMachineConformance : IAsyncLifetime
{
    private readonly ITwoMachineSetup _setup;
    private readonly CancellationTokenSource _watchdog;
    private AgentClient? _agent;
    private LocalMachine? _local;

    /// <summary>A case on <paramref name="setup"/>.</summary>
    protected TwoMachineConformance(ITwoMachineSetup setup)
    {
        _setup = setup;
        _watchdog = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _watchdog.CancelAfter(TimeSpan.FromSeconds(120));
    }

    /// <summary>This process's machine.</summary>
    protected IMachine Local => _local ?? throw new InvalidOperationException("the case has not started");

    /// <summary>The agent's machine.</summary>
    protected IMachine Peer => _agent is null ? throw new InvalidOperationException("the case has not started") : new RemoteMachine(_agent);

    /// <summary>The simulator fabric this process shares with the agent, when it can reach it (faults, topology).</summary>
    protected SimFabric? Fabric => _setup.Fabric;

    /// <summary>The case's watchdog.</summary>
    protected CancellationToken Token => _watchdog.Token;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        if (_setup.SkipReason is null)
        {
            _local = new LocalMachine(_setup.Local, Token);
            _agent = await AgentClient.ConnectAsync(_setup.Local, _setup.Agent, Token);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _agent?.Dispose(); // the agent closes everything the session opened
        _local?.Dispose();
        _watchdog.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Skips the case where the setup cannot run; returns (listening machine, connecting machine).</summary>
    protected (IMachine Listening, IMachine Connecting) Sides(Listener listener)
    {
        if (_setup.SkipReason is { } reason)
            Assert.Skip(reason);
        return listener == Listener.Local ? (Local, Peer) : (Peer, Local);
    }

    /// <summary>The address the connecting machine dials to reach <paramref name="listener"/> on <paramref name="on"/>.</summary>
    protected static VsockAddress Target(IMachine on, IListenerEnd listener) => new(on.Cid, listener.Address.Port);

    /// <summary>A vmci endpoint on machine <paramref name="on"/> for the port of a LAST_ENDPOINT.</summary>
    protected static string Target(IMachine on, string lastEndpoint) =>
        $"vmci://{on.Cid}:{lastEndpoint[(lastEndpoint.LastIndexOf(':') + 1)..]}";

    /// <summary>Listens on <paramref name="listening"/>, connects from <paramref name="connecting"/>: (accepted, connected).</summary>
    protected static async Task<(IStreamEnd Server, IStreamEnd Client)> PairAsync(IMachine listening, IMachine connecting,
        VsockOptions? listenOptions = null, VsockOptions? connectOptions = null)
    {
        var listener = await listening.ListenAsync(listenOptions);
        var accept = listener.AcceptAsync();
        var client = await connecting.ConnectAsync(Target(listening, listener), connectOptions);
        return (await accept, client);
    }

    /// <summary>Receives one message within the watchdog, or fails.</summary>
    protected static async Task<IReadOnlyList<RemoteFrame>> ReceiveAsync(ISocketEnd socket) =>
        await socket.TryReceiveAsync(TimeSpan.FromSeconds(30)) ?? throw new Xunit.Sdk.XunitException("no message arrived within 30 s");

    /// <summary>Asserts that <paramref name="action"/> fails with a <see cref="VmciException"/> carrying one of <paramref name="errnos"/>.</summary>
    protected static async Task<VmciException> ThrowsAsync(Func<Task> action, params Errno[] errnos)
    {
        var e = await Assert.ThrowsAsync<VmciException>(action);
        Assert.True(errnos.Contains(e.Errno), $"expected {string.Join(" or ", errnos)}, got {e.Errno}: {e.Message}");
        return e;
    }
}

/// <summary>Where the two machines of a leaf are.</summary>
public interface ITwoMachineSetup
{
    /// <summary>This process's backend.</summary>
    IVsockNetwork Local { get; }

    /// <summary>The agent's control address.</summary>
    VsockAddress Agent { get; }

    /// <summary>The fabric both share, when this process can reach it; null otherwise.</summary>
    SimFabric? Fabric { get; }

    /// <summary>Why the leaf cannot run here, or null.</summary>
    string? SkipReason { get; }
}
