using System.Net.Sockets;
using Vmci;
using Vmci.Transport.Linux;

namespace Conformance.Kernel;

/// <summary>The sockaddr_vm layout (SPEC §5). Pure byte work: runs everywhere, opens no socket.</summary>
public sealed class VsockEndPointTests
{
    [Fact(DisplayName = "§5 sockaddr_vm: 16 bytes, family 40, port @4, cid @8, flags @12")]
    [Trait("Spec", "§5")]
    public void Serialize_Address_WritesSockaddrVm()
    {
        var sa = new VsockEndPoint(new VsockAddress(0x01020304, 0x0A0B0C0D), VsockEndPoint.VMADDR_FLAG_TO_HOST).Serialize();
        var bytes = Enumerable.Range(0, sa.Size).Select(i => sa[i]).ToArray();
        Assert.Equal(
            new byte[] { 40, 0, 0, 0, 0x0D, 0x0C, 0x0B, 0x0A, 0x04, 0x03, 0x02, 0x01, 1, 0, 0, 0 },
            bytes);
    }

    [Fact(DisplayName = "§5 sockaddr_vm: Create reads back what Serialize wrote")]
    [Trait("Spec", "§5")]
    public void Create_Serialized_RoundTrips()
    {
        var endPoint = new VsockEndPoint(new VsockAddress(VmciCid.Any, 5555));
        var back = Assert.IsType<VsockEndPoint>(endPoint.Create(endPoint.Serialize()));
        Assert.Equal(endPoint, back);
        Assert.Equal(AddressFamily.Unknown, back.AddressFamily);
        Assert.Equal("vmci://*:5555", back.ToString());
    }
}
