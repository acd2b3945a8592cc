namespace Vmci.TestKit.Agent;

/// <summary>What an agent reports about the machine it runs on, for reports that name both machines.</summary>
/// <param name="Cid">The agent's local CID.</param>
/// <param name="Backend">Its backend: <c>sim</c> or <c>vsock</c>.</param>
/// <param name="Kernel">Its operating system and kernel release.</param>
/// <param name="Address">The address its control channel listens on.</param>
/// <param name="Version">The agent protocol version.</param>
public sealed record PeerMachine(uint Cid, string Backend, string Kernel, string Address, int Version)
{
    /// <summary>The machine this process runs on, as an agent would describe it.</summary>
    /// <param name="network">The backend in use.</param>
    /// <param name="address">The address to report, or an empty string.</param>
    public static PeerMachine Describe(IVsockNetwork network, string address)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new PeerMachine(network.GetLocalCid(), network.Name, KernelRelease(), address, AgentProtocol.Version);
    }

    /// <inheritdoc />
    public override string ToString() => $"CID {Cid} ({Backend}, {Kernel})";

    private static string KernelRelease()
    {
        try
        {
            var release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : null;
            return release is { Length: > 0 } ? $"Linux {release}" : Environment.OSVersion.VersionString;
        }
        catch (IOException)
        {
            return Environment.OSVersion.VersionString;
        }
    }
}
