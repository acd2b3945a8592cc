using NetMQ.Sockets;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;
using Vmci.TestKit.Xunit;
using Vmci.Transport;

namespace VmciTestKit.Tests;

/// <summary>A fixture with settings, as docs/testing.md shows: two guests from the start (open topology: guests reach each other, as they cannot under VMware).</summary>
public sealed class TwoGuests() : FabricFixture(new FabricBuilder().WithMachines(3, 4));

/// <summary>The xUnit fixture of Vmci.TestKit.Xunit, used as a user would: a class fixture shared by the class's tests.</summary>
public sealed class FabricFixtureTests(TwoGuests vms) : IClassFixture<TwoGuests>
{
    [Fact]
    public void Fixture_BuiltFromBuilder_HasTopologyAndMachines()
    {
        Assert.Equal(SimTopology.Open, vms.Fabric.Fabric.Topology);
        Assert.Contains("3", vms.Fabric.Entries());
        Assert.Contains("4", vms.Fabric.Entries());
        Assert.Equal(3u, vms.Machine(3).GetLocalCid());
        Assert.Equal(VmciCid.Host, vms.Host.GetLocalCid());
    }

    [Fact]
    public void Pair_BetweenTwoGuests_Bounces()
    {
        using var watchdog = FabricFixture.StartWatchdog();
        using var a = new PairSocket();
        a.Options.Linger = TimeSpan.Zero;
        a.VmciOptions().Network = vms.Machine(3);
        a.VmciBind("vmci://*:*");
        using var b = new PairSocket();
        b.Options.Linger = TimeSpan.Zero;
        b.VmciOptions().Network = vms.Machine(4);
        b.VmciConnect($"vmci://3:{VmciEndpoint.Parse(a.VmciLastEndpoint()!).Port}");

        Bounce.Check(a, b);
        Assert.False(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void Dispose_DeletesTheFabricDirectory()
    {
        var fixture = new FabricFixture();
        var directory = fixture.Fabric.Directory;
        fixture.Machine(5);

        fixture.Dispose();

        Assert.False(Directory.Exists(directory));
    }
}
