using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>The fabric: directory, topology, machines, listing.</summary>
public sealed class FabricTests : IDisposable
{
    private readonly TestFabric _fabric = new();
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);

    public void Dispose()
    {
        _watchdog.Dispose();
        _fabric.Dispose();
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Open_CreatesPrivateDirectory()
    {
        if (OperatingSystem.IsWindows())
            Assert.Skip("file modes are a Unix feature");
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

        _fabric.Machine(5);

        Assert.Equal(Private, ModeOf(_fabric.Directory));
        Assert.Equal(Private, ModeOf(Path.Combine(_fabric.Directory, "5")));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static UnixFileMode ModeOf(string path) => File.GetUnixFileMode(path);

    [Fact]
    public void Open_DirectoryTooLongForSunPath_ThrowsEinvalNamingThePath()
    {
        var tooLong = Path.Combine(_fabric.Directory, new string('x', 100));

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
        VmciAssert.Throws(Errno.EINVAL, () => _fabric.Fabric.Join(cid));
    }

    [Fact]
    public void Join_ReturnsNetworkWithThatLocalCid()
    {
        var net = _fabric.Machine(42);

        Assert.Equal(42u, net.GetLocalCid());
        Assert.Equal("sim", net.Name);
        Assert.Same(_fabric.Fabric, net.Fabric);
    }

    [Fact]
    public void Topology_DefaultsToOpen_AndIsSharedThroughTheDirectory()
    {
        Assert.Equal(SimTopology.Open, _fabric.Fabric.Topology);

        _fabric.Fabric.Topology = SimTopology.Vmware;

        Assert.Equal(SimTopology.Vmware, SimFabric.Open(_fabric.Directory).Topology);
        _fabric.Fabric.Topology = SimTopology.Open;
        Assert.Equal(SimTopology.Open, SimFabric.Open(_fabric.Directory).Topology);
    }

    [Fact]
    public void Snapshot_ListsMachinesAndListenersWithBoundAddress()
    {
        using var any = _fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 7000));
        using var specific = _fabric.Machine(5).Listen(new VsockAddress(5, 7001));
        using var loopback = _fabric.Machine(2).Listen(new VsockAddress(VmciCid.Local, 7002));
        _fabric.LeaveStaleListener(2, 7003);

        var machines = _fabric.Fabric.Snapshot();

        Assert.Equal([2u, 5u], machines.Select(m => m.Cid));
        Assert.Equal(
            [new SimListenerInfo(new VsockAddress(VmciCid.Local, 7002), Environment.ProcessId, false), new SimListenerInfo(new VsockAddress(VmciCid.Any, 7003), 0, true)],
            machines[0].Listeners);
        Assert.Equal(
            [new SimListenerInfo(new VsockAddress(VmciCid.Any, 7000), Environment.ProcessId, false), new SimListenerInfo(new VsockAddress(5, 7001), Environment.ProcessId, false)],
            machines[1].Listeners);
    }
}
