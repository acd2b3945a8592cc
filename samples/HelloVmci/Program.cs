// Two simulated VMs, CID 3 and CID 4, in a temporary fabric; a ZeroMQ PAIR over vmci:// between them.
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

using var fabric = new FabricBuilder().WithMachines(3, 4).Build();
Console.WriteLine($"fabric {fabric.Directory}: machines 3 and 4");

using var vm3 = new PairSocket();
vm3.Options.Linger = TimeSpan.Zero;
vm3.VmciOptions().Network = fabric.Machine(3);        // this socket lives on the VM with CID 3
vm3.VmciBind("vmci://*:*");                           // any CID, an ephemeral port
var port = VmciEndpoint.Parse(vm3.VmciLastEndpoint()!).Port;

using var vm4 = new PairSocket();
vm4.Options.Linger = TimeSpan.Zero;
vm4.VmciOptions().Network = fabric.Machine(4);        // and this one on CID 4
vm4.VmciConnect($"vmci://3:{port}");

var timeout = TimeSpan.FromSeconds(30);
vm4.SendFrame("hello from CID 4");
if (!vm3.TryReceiveFrameString(timeout, out var request))
{
    Console.Error.WriteLine($"CID 3 received nothing within {timeout.TotalSeconds} s");
    return 1;
}
Console.WriteLine($"CID 3 received: {request}");

vm3.SendFrame("hello from CID 3");
if (!vm4.TryReceiveFrameString(timeout, out var reply))
{
    Console.Error.WriteLine($"CID 4 received nothing within {timeout.TotalSeconds} s");
    return 1;
}
Console.WriteLine($"CID 4 received: {reply}");
return 0;
