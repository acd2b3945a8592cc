using System.CommandLine;
using Vmci.Cli.Shell;
using Vmci.Sim;
using Vmci.Transport;

namespace Vmci.Cli.Smoke;

/// <summary>The options every smoke command shares: which backend, and for the simulator which CID and fabric.</summary>
internal sealed class BackendOptions
{
    public Option<string?> Backend { get; } = new Option<string?>("--backend")
    {
        Description = "sim or vsock (default: $VMCI_BACKEND, else sim)",
    }.OneOf("sim", "vsock");

    public Option<uint?> Cid { get; } = new Option<uint?>("--cid")
    {
        Description = "simulator only: this process's CID, 2 to 4294967294 (default: $VMCI_SIM_CID, else 2, the host)",
    }.MachineCid();

    public Option<string?> Fabric { get; } = new Option<string?>("--fabric")
    {
        Description = "simulator only: the fabric directory (default: $VMCI_SIM_FABRIC, else a per-user directory)",
    }.NotEmpty();

    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Cid);
        command.Options.Add(Fabric);
    }

    /// <summary>
    /// The network the options name: the environment's settings (<see cref="VmciSettings.FromEnvironment"/>, every
    /// variable validated), then each flag given replaces its value, checked by the same rules.
    /// </summary>
    /// <exception cref="VmciException">EINVAL for a malformed variable or flag; what opening the fabric throws.</exception>
    public IVsockNetwork Create(ParseResult parse)
    {
        var settings = VmciSettings.FromEnvironment();
        if (parse.GetValue(Backend) is { } backend)
            settings = settings with { Backend = VmciSettings.ParseBackend(backend, "--backend") };
        var cid = parse.GetValue(Cid);
        var fabric = parse.GetValue(Fabric);
        if (settings.Backend == VmciBackend.Vsock && (cid is not null || fabric is not null))
            throw VmciError.Create(Errno.EINVAL, VmciOperation.Configure, cid is not null ? "--cid" : "--fabric",
                "--cid and --fabric configure the simulator; the vsock backend takes the kernel's CID");
        if (cid is { } c)
        {
            SimSettings.CheckCid(c, "--cid");
            settings = settings with { Simulator = settings.Simulator with { Cid = c } };
        }
        if (fabric is not null)
            settings = settings with { Simulator = settings.Simulator with { Fabric = fabric } };
        return settings.CreateNetwork();
    }
}
