using Vmci.Vsock;

namespace Vmci.Transport;

/// <summary>
/// Chooses the backend that vmci endpoints use: the Linux kernel's AF_VSOCK (<see cref="Kernel"/>) or the
/// VmciSim simulator (<see cref="Simulator"/>). <see cref="Default"/> comes from the environment variable
/// <c>VMCI_BACKEND</c> (<c>sim</c> or <c>vsock</c>); when it is unset the default is the SIMULATOR, which can
/// never touch a hypervisor's vsock by accident. A socket can override it with
/// <c>socket.VmciOptions().Network</c>.
/// </summary>
public static class VmciNetwork
{
    private static readonly Lock Gate = new();
    private static IVsockNetwork? s_default;
    private static IVsockNetwork? s_kernel;

    /// <summary>
    /// The backend used by sockets that did not choose one: set explicitly, or <see cref="FromEnvironment"/> on
    /// first use. <remarks>Defaults to the simulator when <c>VMCI_BACKEND</c> is unset.</remarks>
    /// </summary>
    /// <exception cref="VmciException">EINVAL when <c>VMCI_BACKEND</c> holds anything but <c>sim</c> or <c>vsock</c>.</exception>
    public static IVsockNetwork Default
    {
        get
        {
            lock (Gate)
                return s_default ??= FromEnvironment();
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (Gate)
                s_default = value;
        }
    }

    /// <summary>The Linux kernel's AF_VSOCK (VMware VMCI sockets, virtio-vsock, vsock_loopback). One shared instance.</summary>
    /// <exception cref="VmciException">EAFNOSUPPORT when this build or OS has no kernel backend.</exception>
    public static IVsockNetwork Kernel
    {
        get
        {
            lock (Gate)
                return s_kernel ??= CreateKernel();
        }
    }

    /// <summary>A simulated VM (or host) with context ID <paramref name="cid"/> on the fabric in <paramref name="fabricDirectory"/>.</summary>
    /// <param name="fabricDirectory">The fabric's directory (created if missing); every process that opens it shares the fabric.</param>
    /// <param name="cid">This process's context ID: 2 is the host, 3 and up are guests.</param>
    public static IVsockNetwork Simulator(string fabricDirectory, uint cid = VmciCid.Host) =>
        Sim.SimFabric.Open(fabricDirectory).Join(cid);

    /// <summary>
    /// The backend the environment names (<see cref="VmciSettings.FromEnvironment"/>): <c>VMCI_BACKEND=sim</c> (or
    /// unset) → the simulator configured by <c>VMCI_SIM_FABRIC</c>, <c>VMCI_SIM_CID</c> and <c>VMCI_SIM_TOPOLOGY</c>;
    /// <c>vsock</c> → <see cref="Kernel"/>.
    /// </summary>
    /// <exception cref="VmciException">EINVAL for a malformed variable, naming it and the allowed values.</exception>
    public static IVsockNetwork FromEnvironment() => VmciSettings.FromEnvironment().CreateNetwork();

    private static VsockNetwork CreateKernel()
    {
        if (!OperatingSystem.IsLinux())
            throw VmciError.Create(Errno.EAFNOSUPPORT, VmciOperation.Configure, "vsock", "AF_VSOCK exists on Linux only");
        return new VsockNetwork();
    }
}
