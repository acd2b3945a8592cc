using NetMQ;
using NetMQ.Sockets;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>SPEC §4: ZMQ_VMCI_* options, validated, read back, applied to every real vsock connection.</summary>
public sealed class OptionTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void Options_Unset_ReadBackKernelDefaults()
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        Assert.Equal(256UL * 1024, options.BufferSize);
        Assert.Equal(128UL, options.BufferMinSize);
        Assert.Equal(256UL * 1024, options.BufferMaxSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
        Assert.Equal(2000, options[VmciSocketOption.ConnectTimeout]);
    }

    [Fact]
    public void Options_Set_ReadBackById()
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        options[VmciSocketOption.BufferSize] = 100_000;
        options[VmciSocketOption.BufferMinSize] = 4096;
        options[VmciSocketOption.BufferMaxSize] = 1 << 20;
        options[VmciSocketOption.ConnectTimeout] = 1500;
        Assert.Equal(100_000UL, options.BufferSize);
        Assert.Equal(4096, options[VmciSocketOption.BufferMinSize]);
        Assert.Equal(1UL << 20, options.BufferMaxSize);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(85, (int)VmciSocketOption.BufferSize);
        Assert.Equal(88, (int)VmciSocketOption.ConnectTimeout);
    }

    [Theory]
    [InlineData(VmciSocketOption.BufferSize, -1, "unsigned")]
    [InlineData(VmciSocketOption.ConnectTimeout, -2, "connect timeout")]
    [InlineData(VmciSocketOption.ConnectTimeout, 3_000_000_000L, "connect timeout")]
    [InlineData((VmciSocketOption)84, 1, "not a vmci option")]
    public void Options_InvalidValue_ThrowsInvalid(VmciSocketOption option, long value, string rule)
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        var e = Assert.Throws<InvalidException>(() => options[option] = value);
        BindTests.AssertCarries(e, Errno.EINVAL, rule);
        Assert.Contains($"option {(int)option}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ReadUnknownId_ThrowsInvalid()
    {
        var options = _fabric.Socket(new PairSocket()).VmciOptions();
        Assert.Throws<InvalidException>(() => options[(VmciSocketOption)89]);
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
        Fabric.Bounce(server, client);
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
