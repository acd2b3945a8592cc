using System.Net.Sockets;
using Vmci;

namespace VmciCore.Tests;

public sealed class VmciErrorTests
{
    [Fact]
    public void Create_MessageNamesOperationEndpointErrnoAndRule()
    {
        var ex = VmciError.Create(Errno.EADDRNOTAVAIL, "bind", "vmci://7:5555", "CID 7 is not local");

        Assert.Equal("bind 'vmci://7:5555': EADDRNOTAVAIL (Cannot assign requested address): CID 7 is not local", ex.Message);
        Assert.Equal(Errno.EADDRNOTAVAIL, ex.Errno);
        Assert.Equal(99, ex.HResult);
    }

    [Theory]
    [InlineData(104, Errno.ECONNRESET)]
    [InlineData(19, Errno.ENODEV)]
    [InlineData(99, Errno.EADDRNOTAVAIL)]
    [InlineData(4242, Errno.EIO)]
    public void FromErrno_MapsLinuxNumbers(int native, Errno expected)
    {
        var ex = VmciError.FromErrno(native, "connect", "vmci://1:2");

        Assert.Equal(expected, ex.Errno);
        if (expected == Errno.EIO)
            Assert.Contains("errno 4242", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SocketError.ConnectionReset, Errno.ECONNRESET)]
    [InlineData(SocketError.AddressAlreadyInUse, Errno.EADDRINUSE)]
    [InlineData(SocketError.AddressNotAvailable, Errno.EADDRNOTAVAIL)]
    [InlineData(SocketError.TimedOut, Errno.ETIMEDOUT)]
    [InlineData(SocketError.AccessDenied, Errno.EACCES)]
    [InlineData(SocketError.Shutdown, Errno.EPIPE)]
    [InlineData(SocketError.SocketError, Errno.EIO)]
    public void FromSocketException_MapsSocketErrors(SocketError error, Errno expected)
    {
        var ex = VmciError.FromSocketException(new SocketException((int)error), "send", null);

        Assert.Equal(expected, ex.Errno);
        Assert.IsType<SocketException>(ex.InnerException);
    }

    [Fact]
    public void Describe_EveryErrno_HasText()
    {
        foreach (var errno in Enum.GetValues<Errno>())
            Assert.NotEqual(errno.ToString(), VmciError.Describe(errno));
    }
}
