using System.CommandLine;
using System.Globalization;
using Vmci.Sim;
using Vmci.Transport;

namespace Vmci.Cli.Smoke;

/// <summary>The options every smoke command shares: which backend, and for the simulator which CID and fabric.</summary>
internal sealed class BackendOptions
{
    public Option<string?> Backend { get; } = new("--backend")
    {
        Description = "sim or vsock (default: $VMCI_BACKEND, else sim)",
    };

    public Option<uint?> Cid { get; } = new("--cid")
    {
        Description = "simulator only: this process's CID (default: $VMCI_SIM_CID, else 2, the host)",
    };

    public Option<string?> Fabric { get; } = new("--fabric")
    {
        Description = "simulator only: the fabric directory (default: $VMCI_SIM_FABRIC, else a per-user directory)",
    };

    public void AddTo(Command command)
    {
        Backend.AcceptOnlyFromAmong("sim", "vsock");
        command.Options.Add(Backend);
        command.Options.Add(Cid);
        command.Options.Add(Fabric);
    }

    /// <summary>The network the options name.</summary>
    /// <exception cref="VmciException">A malformed environment variable, or no kernel backend here.</exception>
    public IVsockNetwork Create(ParseResult parse)
    {
        var backend = parse.GetValue(Backend) ?? Environment.GetEnvironmentVariable(VmciNetwork.BackendVariable);
        var cid = parse.GetValue(Cid);
        var fabric = parse.GetValue(Fabric);
        if (backend == "vsock")
            return VmciNetwork.Kernel;
        if (cid is null && fabric is null)
            return VmciNetwork.FromEnvironment();
        var envCid = Environment.GetEnvironmentVariable(SimNetwork.CidVariable);
        var resolvedCid = cid ?? (uint.TryParse(envCid, NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : VmciCid.Host);
        return SimFabric.Open(fabric).Join(resolvedCid);
    }
}
