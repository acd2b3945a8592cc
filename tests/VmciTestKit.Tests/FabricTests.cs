using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciTestKit.Tests;

/// <summary>The temporary fabric: private, short, built as asked, gone afterwards.</summary>
public sealed class FabricTests
{
    [Fact]
    public void New_Directory_IsPrivateShortAndEmpty()
    {
        using var fabric = new TestFabric();

        Assert.True(fabric.Directory.Length <= 40, $"{fabric.Directory} leaves little of sun_path's 107 bytes");
        Assert.Empty(fabric.Entries());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(fabric.Directory));
    }

    [Fact]
    public void Dispose_DeletesTheDirectoryAndEverythingInIt()
    {
        var fabric = new TestFabric();
        fabric.LeaveStaleListener(5, 6000);
        fabric.Faults.Partition(5);

        fabric.Dispose();

        Assert.False(Directory.Exists(fabric.Directory));
    }

    [Fact]
    public void Build_TopologyMachinesAndFaults_AreInTheFabric()
    {
        using var fabric = new FabricBuilder()
            .WithTopology(SimTopology.Vmware)
            .WithMachines(3, 4)
            .WithFault(new SimFault(SimFaultKind.Partition, 3) { Peer = 4 })
            .Build();

        Assert.Equal(SimTopology.Vmware, SimFabric.Open(fabric.Directory).Topology);
        Assert.Equal([3u, 4u], fabric.Fabric.Snapshot().Select(m => m.Cid));
        Assert.Equal(SimFaultKind.Partition, Assert.Single(fabric.Faults.List()).Kind);
    }

    [Fact]
    public void Build_ReservedCid_ThrowsEinval() =>
        VmciAssert.Throws(Errno.EINVAL, () => new FabricBuilder().WithMachines(VmciCid.Local).Build());

    [Fact]
    public void Machine_SameCid_SameNetwork()
    {
        using var fabric = new TestFabric();

        Assert.Same(fabric.Machine(7), fabric.Machine(7));
        Assert.Equal(7u, fabric.Machine(7).GetLocalCid());
        Assert.Equal(VmciCid.Host, fabric.Host.GetLocalCid());
    }

    [Fact]
    public async Task LeaveStaleListener_ConnectThrowsEconnreset_ListenReclaims()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var fabric = new TestFabric();
        var path = fabric.LeaveStaleListener(5, 6000);

        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => watchdog.Guard(fabric.Host.ConnectAsync(new VsockAddress(5, 6000), null, watchdog.Token)));
        using var listener = fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 6000));

        Assert.Equal(fabric.SocketPath(5, 6000), path);
    }
}
