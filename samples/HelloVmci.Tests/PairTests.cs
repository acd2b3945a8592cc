using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using Vmci.TestKit.Xunit;
using Vmci.Transport;

namespace HelloVmci.Tests;

/// <summary>Two simulated VMs for the whole class, deleted when xUnit disposes the fixture.</summary>
public sealed class TwoVms() : FabricFixture(new FabricBuilder().WithMachines(3, 4));

public sealed class PairTests(TwoVms vms) : IClassFixture<TwoVms>
{
    [Fact]
    public void Pair_FromCid4ToCid3_Bounces()
    {
        using var watchdog = FabricFixture.StartWatchdog(TimeSpan.FromSeconds(30));
        using var vm3 = new PairSocket();
        vm3.Options.Linger = TimeSpan.Zero;
        vm3.VmciOptions().Network = vms.Machine(3);
        vm3.VmciBind("vmci://*:*");
        using var vm4 = new PairSocket();
        vm4.Options.Linger = TimeSpan.Zero;
        vm4.VmciOptions().Network = vms.Machine(4);
        vm4.VmciConnect($"vmci://3:{VmciEndpoint.Parse(vm3.VmciLastEndpoint()!).Port}");

        Bounce.Check(vm3, vm4);    // two frames each way, or a VmciAssertionException
    }

    [Fact]
    public async Task Connect_ToAMachineWithNoListener_IsRefused()
    {
        using var watchdog = FabricFixture.StartWatchdog(TimeSpan.FromSeconds(30));

        var e = await Assert.ThrowsAsync<VmciException>(
            async () => await vms.Machine(4).ConnectAsync(new VsockAddress(3, 9), null, watchdog.Token));

        Assert.Equal(Errno.ECONNRESET, e.Errno);   // a VM that exists with nothing on the port: ECONNRESET, as VMCI does
    }
}
