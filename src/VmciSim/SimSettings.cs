using System.Globalization;

namespace Vmci.Sim;

/// <summary>
/// The simulator's configuration — which fabric, which CID, which topology — read from <c>VMCI_SIM_FABRIC</c>,
/// <c>VMCI_SIM_CID</c> and <c>VMCI_SIM_TOPOLOGY</c> in this one place, with one set of rules and messages for the
/// variables and for the command-line flags that override them (<see cref="ParseCid"/>, <see cref="ParseTopology"/>,
/// <see cref="CheckCid"/> take the name of the variable or flag the value came from).
/// </summary>
public sealed record SimSettings
{
    /// <summary>The environment variable naming the fabric directory.</summary>
    public const string FabricVariable = "VMCI_SIM_FABRIC";

    /// <summary>The environment variable giving this process's CID.</summary>
    public const string CidVariable = "VMCI_SIM_CID";

    /// <summary>The environment variable giving the topology (<c>open</c> or <c>vmware</c>); when set it is written to the fabric.</summary>
    public const string TopologyVariable = "VMCI_SIM_TOPOLOGY";

    /// <summary>Why CIDs 0, 1 and 4294967295 belong to no machine.</summary>
    internal const string MachineCidRule =
        "CID 0 is the hypervisor, 1 loopback and 4294967295 any: no machine has them; use 2 for the host, 3 or more for guests";

    /// <summary>The fabric directory; null for <see cref="SimFabric.DefaultDirectory"/>. <remarks>Defaults to null.</remarks></summary>
    public string? Fabric { get; init; }

    /// <summary>This process's CID. <remarks>Defaults to 2, the host.</remarks></summary>
    public uint Cid { get; init; } = VmciCid.Host;

    /// <summary>The topology to write to the fabric; null keeps the fabric's stored one. <remarks>Defaults to null.</remarks></summary>
    public SimTopology? Topology { get; init; }

    /// <summary>The fabric directory these settings name: <see cref="Fabric"/>, else the default.</summary>
    public string FabricDirectory => Fabric is { Length: > 0 } fabric ? fabric : SimFabric.DefaultDirectory();

    /// <summary>Reads and validates the three variables (unset or empty: the default).</summary>
    /// <param name="variables">Looks a variable up; null for the process environment.</param>
    /// <exception cref="VmciException">EINVAL naming the variable, its value and the rule it breaks.</exception>
    public static SimSettings FromEnvironment(Func<string, string?>? variables = null)
    {
        variables ??= Environment.GetEnvironmentVariable;
        var settings = new SimSettings();
        if (variables(FabricVariable) is { Length: > 0 } fabric)
            settings = settings with { Fabric = fabric };
        if (variables(CidVariable) is { Length: > 0 } cid)
            settings = settings with { Cid = ParseCid(cid, CidVariable) };
        if (variables(TopologyVariable) is { Length: > 0 } topology)
            settings = settings with { Topology = ParseTopology(topology, TopologyVariable) };
        return settings;
    }

    /// <summary>Parses a machine CID: a decimal 2..4294967294.</summary>
    /// <param name="text">The value.</param>
    /// <param name="source">The variable or flag it came from, for the message.</param>
    /// <exception cref="VmciException">EINVAL naming <paramref name="source"/>.</exception>
    public static uint ParseCid(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cid))
            throw Invalid(source, text, "a CID is a decimal number (2 for the host, 3 or more for guests)");
        CheckCid(cid, source);
        return cid;
    }

    /// <summary>Checks that <paramref name="cid"/> can be a machine's CID: not 0 (hypervisor), 1 (loopback) or 4294967295 (any).</summary>
    /// <param name="cid">The CID.</param>
    /// <param name="source">The variable, flag or operation it came from, for the message.</param>
    /// <exception cref="VmciException">EINVAL naming <paramref name="source"/>.</exception>
    public static void CheckCid(uint cid, string source)
    {
        if (cid is VmciCid.Hypervisor or VmciCid.Local or VmciCid.Any)
            throw Invalid(source, cid.ToString(CultureInfo.InvariantCulture), MachineCidRule);
    }

    /// <summary>Parses a topology: <c>open</c> or <c>vmware</c> (any case).</summary>
    /// <param name="text">The value.</param>
    /// <param name="source">The variable or flag it came from, for the message.</param>
    /// <exception cref="VmciException">EINVAL naming <paramref name="source"/>.</exception>
    public static SimTopology ParseTopology(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "open" => SimTopology.Open,
            "vmware" => SimTopology.Vmware,
            _ => throw Invalid(source, text, "the topology is 'open' or 'vmware'"),
        };
    }

    /// <summary>Opens the fabric, writes <see cref="Topology"/> to it when set, and joins it as <see cref="Cid"/>.</summary>
    /// <exception cref="VmciException">EINVAL for a CID no machine can have; what <see cref="SimFabric.Open"/> throws.</exception>
    public SimNetwork Join()
    {
        CheckCid(Cid, CidVariable);
        var fabric = SimFabric.Open(FabricDirectory);
        if (Topology is { } topology)
            fabric.Topology = topology;
        return fabric.Join(Cid);
    }

    private static VmciException Invalid(string source, string value, string rule) =>
        VmciError.Create(Errno.EINVAL, VmciOperation.Configure, $"{source}={value}", rule);
}
