using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>The fabric: directory, topology, machines, listing.</summary>
public sealed class FabricTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Open_CreatesPrivateDirectory()
    {
        if (OperatingSystem.IsWindows())
            Assert.Skip("file modes are a Unix feature");
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

        Fabric.Machine(5);

        Assert.Equal(Private, ModeOf(Fabric.Directory));
        Assert.Equal(Private, ModeOf(Path.Combine(Fabric.Directory, "5")));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static UnixFileMode ModeOf(string path) => File.GetUnixFileMode(path);

    [Fact]
    public void Open_DirectoryTooLongForSunPath_ThrowsEinvalNamingThePath()
    {
        var tooLong = Path.Combine(Fabric.Directory, new string('x', 100));

        var e = VmciAssert.Throws(Errno.EINVAL, () => SimFabric.Open(tooLong));

        Assert.Contains(tooLong, e.Message, StringComparison.Ordinal);
        Assert.Contains("sun_path", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tooLong));
    }

    [Theory]
    [InlineData(VmciCid.Hypervisor)]
    [InlineData(VmciCid.Local)]
    [InlineData(VmciCid.Any)]
    public void Join_ReservedCid_ThrowsEinval(uint cid)
    {
        VmciAssert.Throws(Errno.EINVAL, () => Fabric.Fabric.Join(cid));
    }

    [Fact]
    public void Join_ReturnsNetworkWithThatLocalCid()
    {
        var net = Fabric.Machine(42);

        Assert.Equal(42u, net.GetLocalCid());
        Assert.Equal("sim", net.Name);
        Assert.Same(Fabric.Fabric, net.Fabric);
    }

    [Fact]
    public void Topology_DefaultsToOpen_AndIsSharedThroughTheDirectory()
    {
        Assert.Equal(SimTopology.Open, Fabric.Fabric.Topology);

        Fabric.Fabric.Topology = SimTopology.Vmware;

        Assert.Equal(SimTopology.Vmware, SimFabric.Open(Fabric.Directory).Topology);
        Fabric.Fabric.Topology = SimTopology.Open;
        Assert.Equal(SimTopology.Open, SimFabric.Open(Fabric.Directory).Topology);
    }

    [Fact]
    public void Snapshot_ListsMachinesAndListenersWithBoundAddress()
    {
        using var any = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 7000));
        using var specific = Fabric.Machine(5).Listen(new VsockAddress(5, 7001));
        using var loopback = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Local, 7002));
        Fabric.LeaveStaleListener(2, 7003);

        var machines = Fabric.Fabric.Snapshot();

        Assert.Equal([2u, 5u], machines.Select(m => m.Cid));
        Assert.Equal(
            [new SimListenerInfo(new VsockAddress(VmciCid.Local, 7002), Environment.ProcessId, false), new SimListenerInfo(new VsockAddress(VmciCid.Any, 7003), 0, true)],
            machines[0].Listeners);
        Assert.Equal(
            [new SimListenerInfo(new VsockAddress(VmciCid.Any, 7000), Environment.ProcessId, false), new SimListenerInfo(new VsockAddress(5, 7001), Environment.ProcessId, false)],
            machines[1].Listeners);
    }
}
