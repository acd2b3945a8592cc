using NetMQ.Sockets;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;
using Vmci.Transport;

namespace VmciTestKit.Tests;

/// <summary>The "for users" example of docs/testing.md, compiled and run here so that it stays true.</summary>
public sealed class UserExampleTests
{
    [Fact]
    public void Guest_RequestToTheHost_IsAnswered()
    {
        // Three simulated VMware VMs and the host, in a temporary directory deleted at the end.
        using var fabric = new FabricBuilder().WithTopology(SimTopology.Vmware).WithMachines(3, 4, 5).Build();

        using var server = new ResponseSocket();
        server.Options.Linger = TimeSpan.Zero;
        server.VmciOptions().Network = fabric.Host;            // CID 2
        server.VmciBind("vmci://*:*");
        var port = VmciEndpoint.Parse(server.VmciLastEndpoint()!).Port;

        using var client = new RequestSocket();
        client.Options.Linger = TimeSpan.Zero;
        client.VmciOptions().Network = fabric.Machine(3);      // a guest
        client.VmciConnect($"vmci://{VmciCid.Host}:{port}");

        Bounce.Check(server, client);                          // two frames there and back, or a VmciAssertionException
    }
}
