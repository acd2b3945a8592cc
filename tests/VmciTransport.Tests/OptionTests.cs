using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>SPEC §4: ZMQ_VMCI_* options, validated, read back, applied to every real vsock connection.</summary>
public sealed class OptionTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Theory]
    [InlineData(VmciSocketOption.BufferSize, -1, "unsigned")]
    [InlineData(VmciSocketOption.ConnectTimeout, -2, "connect timeout")]
    [InlineData(VmciSocketOption.ConnectTimeout, 3_000_000_000L, "connect timeout")]
    [InlineData((VmciSocketOption)84, 1, "not a vmci option")]
    public void Options_InvalidValue_ThrowsInvalid(VmciSocketOption option, long value, string rule)
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        var e = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => options[option] = value);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
        Assert.Contains($"option {(int)option}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AppliedToBothEndsOfEachConnection_InAnyOrderOfSetting()
    {
        var server = _fabric.Socket(new PairSocket());
        var client = _fabric.Socket(new PairSocket());
        // Size first, then a max above it: libzmq wrote all three to SIZE; here max, min, size apply in that order.
        foreach (var socket in new NetMQSocket[] { server, client })
        {
            socket.VmciOptions().BufferSize = 512 * 1024;
            socket.VmciOptions().BufferMaxSize = 1024 * 1024;
            socket.VmciOptions().BufferMinSize = 1024;
        }
        client.VmciOptions().ConnectTimeout = TimeSpan.FromMilliseconds(3500);
        var bound = _fabric.Link(server, client);
        Bounce.Check(server, client);
        var accepted = SocketState.Find(server)!.FindBind(bound)!.Connections.Single();
        var connected = SocketState.Find(client)!.FindConnects(Fabric.ToHost(bound)).Single().Connections.Single();
        foreach (var vsock in new[] { accepted, connected })
        {
            Assert.Equal(512UL * 1024, vsock.GetOption(VsockOption.BufferSize));
            Assert.Equal(1024UL, vsock.GetOption(VsockOption.BufferMinSize));
            Assert.Equal(1024UL * 1024, vsock.GetOption(VsockOption.BufferMaxSize));
        }
        Assert.Equal(3500UL, connected.GetOption(VsockOption.ConnectTimeout));
    }
}
