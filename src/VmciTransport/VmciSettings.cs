using Vmci.Sim;

namespace Vmci.Transport;

/// <summary>The backends a vmci endpoint can use.</summary>
public enum VmciBackend
{
    /// <summary>The VmciSim simulator (<c>VMCI_BACKEND=sim</c>, the default).</summary>
    Sim,

    /// <summary>The Linux kernel's AF_VSOCK (<c>VMCI_BACKEND=vsock</c>).</summary>
    Vsock,
}

/// <summary>
/// Which backend vmci endpoints use, how they reach NetMQ, and the simulator's settings: the one reader of
/// <c>VMCI_BACKEND</c> and <c>VMCI_TRANSPORT_MODE</c> (and, through
/// <see cref="SimSettings"/>, of <c>VMCI_SIM_FABRIC</c>, <c>VMCI_SIM_CID</c>, <c>VMCI_SIM_TOPOLOGY</c>). The library
/// (<see cref="VmciNetwork.FromEnvironment"/>) and the <c>vmci</c> tool read the environment through it, so a malformed
/// value gets the same error everywhere; the tool's flags replace values afterwards (<c>with</c>) and are checked by the
/// same rules.
/// </summary>
public sealed record VmciSettings
{
    /// <summary>The environment variable that selects the backend: <c>sim</c> or <c>vsock</c>.</summary>
    public const string BackendVariable = "VMCI_BACKEND";

    /// <summary>The environment variable that selects the transport mode: <c>direct</c> or <c>relay</c>.</summary>
    public const string TransportModeVariable = "VMCI_TRANSPORT_MODE";

    /// <summary>The backend. <remarks>Defaults to <see cref="VmciBackend.Sim"/>, which can never touch a hypervisor's vsock by accident.</remarks></summary>
    public VmciBackend Backend { get; init; } = VmciBackend.Sim;

    /// <summary>
    /// How vmci connections reach NetMQ (<see cref="VmciTransport.RequestedMode"/>).
    /// <remarks>Defaults to <see cref="VmciTransportMode.Direct"/>; the relay is used anyway when direct mode is unavailable.</remarks>
    /// </summary>
    public VmciTransportMode TransportMode { get; init; } = VmciTransportMode.Direct;

    /// <summary>The simulator's settings (used when <see cref="Backend"/> is <see cref="VmciBackend.Sim"/>). <remarks>Defaults to the defaults of <see cref="SimSettings"/>.</remarks></summary>
    public SimSettings Simulator { get; init; } = new();

    /// <summary>Reads and validates every variable (unset or empty: the default).</summary>
    /// <param name="variables">Looks a variable up; null for the process environment.</param>
    /// <exception cref="VmciException">EINVAL naming the variable, its value and the rule it breaks.</exception>
    public static VmciSettings FromEnvironment(Func<string, string?>? variables = null)
    {
        variables ??= Environment.GetEnvironmentVariable;
        var backend = variables(BackendVariable) is { Length: > 0 } text ? ParseBackend(text, BackendVariable) : VmciBackend.Sim;
        var mode = variables(TransportModeVariable) is { Length: > 0 } m ? ParseTransportMode(m, TransportModeVariable) : VmciTransportMode.Direct;
        return new VmciSettings { Backend = backend, TransportMode = mode, Simulator = SimSettings.FromEnvironment(variables) };
    }

    /// <summary>Parses a backend name: <c>sim</c> or <c>vsock</c>.</summary>
    /// <param name="text">The value.</param>
    /// <param name="source">The variable or flag it came from, for the message.</param>
    /// <exception cref="VmciException">EINVAL naming <paramref name="source"/>.</exception>
    public static VmciBackend ParseBackend(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text switch
        {
            "sim" => VmciBackend.Sim,
            "vsock" => VmciBackend.Vsock,
            _ => throw VmciError.Create(Errno.EINVAL, VmciOperation.Configure, $"{source}={text}",
                "the backend is 'sim' (the simulator, the default) or 'vsock' (the kernel's AF_VSOCK)"),
        };
    }

    /// <summary>Parses a transport mode: <c>direct</c> or <c>relay</c>.</summary>
    /// <param name="text">The value.</param>
    /// <param name="source">The variable or flag it came from, for the message.</param>
    /// <exception cref="VmciException">EINVAL naming <paramref name="source"/>.</exception>
    public static VmciTransportMode ParseTransportMode(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text switch
        {
            "direct" => VmciTransportMode.Direct,
            "relay" => VmciTransportMode.Relay,
            _ => throw VmciError.Create(Errno.EINVAL, VmciOperation.Configure, $"{source}={text}",
                "the transport mode is 'direct' (NetMQ's engine on the vsock socket, the default) or 'relay' (a hidden loopback tcp endpoint)"),
        };
    }

    /// <summary>The network these settings name: the kernel's (one shared instance) or the simulated machine <see cref="SimSettings.Cid"/>.</summary>
    /// <exception cref="VmciException">What <see cref="SimSettings.Join"/> throws; EAFNOSUPPORT for the kernel backend off Linux.</exception>
    public IVsockNetwork CreateNetwork() => Backend switch
    {
        VmciBackend.Vsock => VmciNetwork.Kernel,
        _ => Simulator.Join(),
    };
}
