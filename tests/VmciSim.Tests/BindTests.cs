using Vmci;
using Vmci.Sim;
using Vmci.Sim.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>SPEC §5 bind rules, per simulated machine.</summary>
public sealed class BindTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Theory]
    [InlineData(7u)]
    [InlineData(0u)]
    [InlineData(2u)]
    public void Listen_CidNotLocal_ThrowsEaddrnotavail(uint cid)
    {
        var net = Fabric.Machine(5);

        var e = VmciAssert.Throws(Errno.EADDRNOTAVAIL, () => net.Listen(new VsockAddress(cid, 5000)));

        Assert.Equal(VmciOperation.Bind, e.Operation);
    }

    [Theory]
    [InlineData(VmciCid.Any)]
    [InlineData(5u)]
    [InlineData(VmciCid.Local)]
    public void Listen_AnyLocalOrLoopbackCid_ReportsCidAsBound(uint cid)
    {
        var net = Fabric.Machine(5);

        using var listener = net.Listen(new VsockAddress(cid, 5000));

        Assert.Equal(new VsockAddress(cid, 5000), listener.LocalAddress);
    }

    [Theory]
    [InlineData(5u, 5u)]
    [InlineData(VmciCid.Local, VmciCid.Any)]
    [InlineData(VmciCid.Local, 5u)]
    public void Listen_PortTaken_ThrowsEaddrinuse(uint first, uint second)
    {
        var net = Fabric.Machine(5);
        using var listener = net.Listen(new VsockAddress(first, VmciPort.Any));

        VmciAssert.Throws(Errno.EADDRINUSE, () => net.Listen(new VsockAddress(second, listener.LocalAddress.Port)));
    }

    [Fact]
    public void Listen_SamePortOnTwoMachines_Succeeds()
    {
        using var a = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 6000));
        using var b = Fabric.Machine(6).Listen(new VsockAddress(VmciCid.Any, 6000));

        Assert.Equal(a.LocalAddress, b.LocalAddress);
    }

    [Fact]
    public void Listen_SameCidJoinedTwice_SharesPortSpace()
    {
        using var a = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 6000));

        VmciAssert.Throws(Errno.EADDRINUSE, () => SimFabric.Open(Fabric.Directory).Join(5).Listen(new VsockAddress(VmciCid.Any, 6000)));
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(80u)]
    [InlineData(1023u)]
    public void Listen_PrivilegedPortWithoutCapability_ThrowsEacces(uint port)
    {
        Fabric.Fabric.CanBindPrivilegedPorts = () => false;

        VmciAssert.Throws(Errno.EACCES, () => Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, port)));
    }

    [Fact]
    public void Listen_PrivilegedPortWithCapability_Succeeds()
    {
        Fabric.Fabric.CanBindPrivilegedPorts = () => true;

        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 1023));

        Assert.Equal(1023u, listener.LocalAddress.Port);
    }

    [Fact]
    public void Listen_Port1024WithoutCapability_Succeeds()
    {
        Fabric.Fabric.CanBindPrivilegedPorts = () => false;

        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, 1024));

        Assert.Equal(1024u, listener.LocalAddress.Port);
    }

    [Fact]
    public void Listen_EphemeralPortsTaken24Times_ThrowsEaddrnotavail()
    {
        var net = Fabric.Machine(5);
        var listeners = Enumerable.Range(0, PortAllocator.MaxRetries)
            .Select(i => net.Listen(new VsockAddress(VmciCid.Any, 40000u + (uint)i))).ToList();
        try
        {
            Fabric.Fabric.Ports.Reset(40000);

            VmciAssert.Throws(Errno.EADDRNOTAVAIL, () => net.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any)));
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public void Listen_EphemeralPortTaken_SkipsToNext()
    {
        var net = Fabric.Machine(5);
        using var taken = net.Listen(new VsockAddress(VmciCid.Any, 40000));
        Fabric.Fabric.Ports.Reset(40000);

        using var listener = net.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

        Assert.Equal(40001u, listener.LocalAddress.Port);
    }

    [Fact]
    public void Listen_EphemeralCounterAtTop_WrapsTo1024()
    {
        var net = Fabric.Machine(5);
        Fabric.Fabric.Ports.Reset(VmciPort.Any - 1);

        using var top = net.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        using var wrapped = net.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));

        Assert.Equal(VmciPort.Any - 1, top.LocalAddress.Port);
        Assert.Equal(VmciPort.LastReserved + 1, wrapped.LocalAddress.Port);
    }

    [Fact]
    public void Dispose_Listener_RemovesItsFilesAndFreesThePort()
    {
        var net = Fabric.Machine(5);
        var before = Fabric.Entries();
        var listener = net.Listen(new VsockAddress(VmciCid.Any, 6000));
        Assert.NotEqual(before, Fabric.Entries());

        listener.Dispose();

        Assert.Equal(before, Fabric.Entries());
        using var again = net.Listen(new VsockAddress(VmciCid.Any, 6000));
    }

    [Fact]
    public void Listen_StaleSocketFile_IsReclaimed()
    {
        var net = Fabric.Machine(5);
        Fabric.LeaveStaleListener(5, 6000);

        using var listener = net.Listen(new VsockAddress(5, 6000));

        Assert.Equal(new VsockAddress(5, 6000), listener.LocalAddress);
        Assert.DoesNotContain(Fabric.Entries(), e => e.EndsWith(".lock", StringComparison.Ordinal));
    }

    [Fact]
    public void Listen_ConnectTimeoutOutOfRange_ThrowsErange()
    {
        var options = new VsockOptions { ConnectTimeout = TimeSpan.FromDays(365) };

        VmciAssert.Throws(Errno.ERANGE, () => Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), options));
    }
}
