using Vmci;
using Vmci.Sim;
using Vmci.Transport;

namespace Conformance.TwoMachine;

/// <summary>
/// The two-machine suite against an agent already running on another machine (<c>vmci agent --bind vmci://*:PORT</c>
/// there; <c>vmci conformance --peer vmci://CID:PORT</c> here, which sets <see cref="PeerAgent.Variable"/>). This
/// process uses the backend of its environment (VMCI_BACKEND). Skips, with the reason, when no peer is named.
/// </summary>
[Trait("Backend", "peer")]
public sealed class PeerTwoMachineTests(PeerAgent setup) : TwoMachineConformance(setup), IClassFixture<PeerAgent>;

/// <summary>The agent named by <see cref="Variable"/>.</summary>
public sealed class PeerAgent : ITwoMachineSetup
{
    /// <summary>The environment variable naming the peer agent: <c>vmci://CID:PORT</c>.</summary>
    public const string Variable = "VMCI_CONFORMANCE_PEER";

    private readonly Lazy<IVsockNetwork> _local = new(VmciNetwork.FromEnvironment);

    /// <summary>Reads <see cref="Variable"/>.</summary>
    public PeerAgent()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(text))
        {
            SkipReason = $"no peer agent: run 'vmci agent --bind vmci://*:PORT' on the other machine, then 'vmci conformance --peer vmci://CID:PORT' ({Variable})";
            return;
        }
        var endpoint = VmciEndpoint.Parse(text);
        Agent = endpoint.Resolve(() => throw VmciError.Create(Errno.EINVAL, VmciOperation.Configure, $"{Variable}={text}", "the peer's CID must be a number"));
    }

    /// <inheritdoc />
    public IVsockNetwork Local => _local.Value;

    /// <inheritdoc />
    public VsockAddress Agent { get; }

    /// <inheritdoc />
    public SimFabric? Fabric => SkipReason is null && Local is SimNetwork sim ? sim.Fabric : null;

    /// <inheritdoc />
    public string? SkipReason { get; }
}
