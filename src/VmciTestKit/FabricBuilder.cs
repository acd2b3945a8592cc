using Vmci.Sim;

namespace Vmci.TestKit;

/// <summary>
/// Builds a <see cref="TestFabric"/>: <c>new FabricBuilder().WithTopology(SimTopology.Vmware).WithMachines(3, 4).Build()</c>.
/// Each <c>With…</c> returns the builder; <see cref="Build"/> checks the settings and creates the fabric.
/// </summary>
public sealed class FabricBuilder
{
    private readonly List<uint> _machines = [];
    private readonly List<SimFault> _faults = [];
    private SimTopology _topology = SimTopology.Open;

    /// <summary>Who may connect to whom.</summary>
    /// <param name="topology">The topology.</param>
    /// <returns>This builder.</returns>
    /// <remarks>Defaults to <see cref="SimTopology.Open"/>.</remarks>
    public FabricBuilder WithTopology(SimTopology topology)
    {
        _topology = topology;
        return this;
    }

    /// <summary>
    /// Machines that exist from the start, so that connecting to one where nothing listens is ECONNRESET rather than
    /// ENODEV (no such machine). Any other machine is joined on first use of <see cref="TestFabric.Machine"/>.
    /// </summary>
    /// <param name="cids">Their CIDs.</param>
    /// <returns>This builder.</returns>
    /// <remarks>Defaults to none; repeated calls add machines.</remarks>
    public FabricBuilder WithMachines(params uint[] cids)
    {
        ArgumentNullException.ThrowIfNull(cids);
        _machines.AddRange(cids);
        return this;
    }

    /// <summary>A fault in force from the start (latency, partition, …; see <see cref="SimFaults"/>).</summary>
    /// <param name="fault">The fault.</param>
    /// <returns>This builder.</returns>
    /// <remarks>Defaults to none; repeated calls add faults.</remarks>
    public FabricBuilder WithFault(SimFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _faults.Add(fault);
        return this;
    }

    /// <summary>Creates the fabric: its directory, the topology, the machines and the faults.</summary>
    /// <returns>The fabric; dispose it to delete it.</returns>
    /// <exception cref="VmciException">EINVAL for a reserved machine CID, an unknown topology or a meaningless fault.</exception>
    public TestFabric Build()
    {
        var fabric = new TestFabric();
        try
        {
            if (_topology != SimTopology.Open)
                fabric.Fabric.Topology = _topology;
            foreach (var cid in _machines)
                fabric.Machine(cid);
            foreach (var fault in _faults)
                fabric.Fabric.Faults.Add(fault);
            return fabric;
        }
        catch
        {
            fabric.Dispose();
            throw;
        }
    }
}
