using NetMQ;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>The one mapping VmciException → NetMQException (docs/transport.md's table).</summary>
public sealed class ErrorMappingTests
{
    [Theory]
    [InlineData(Errno.ENOENT, typeof(EndpointNotFoundException), true)]
    [InlineData(Errno.EADDRINUSE, typeof(AddressAlreadyInUseException), true)]
    [InlineData(Errno.EINVAL, typeof(InvalidException), true)]
    [InlineData(Errno.ERANGE, typeof(InvalidException), true)]
    [InlineData(Errno.ENOPROTOOPT, typeof(InvalidException), true)]
    [InlineData(Errno.EPROTONOSUPPORT, typeof(ProtocolNotSupportedException), false)]
    [InlineData(Errno.EHOSTUNREACH, typeof(HostUnreachableException), false)]
    [InlineData(Errno.EBADF, typeof(TerminatingException), false)]
    public void ToNetMQ_Errno_GivesNetMQsType(Errno errno, Type expected, bool keepsInner)
    {
        var vmci = VmciError.Create(errno, VmciOperation.Bind, "vmci://*:1", "the rule");
        var e = NetMQErrors.ToNetMQ(vmci);
        Assert.IsType(expected, e);
        Assert.Equal(vmci.Message, e.Message);
        Assert.Contains(errno.ToString(), e.Message, StringComparison.Ordinal);
        if (keepsInner)
            Assert.Same(vmci, e.InnerException);
    }

    [Theory]
    [InlineData(Errno.EADDRNOTAVAIL, ErrorCode.AddressNotAvailable)]
    [InlineData(Errno.ENODEV, ErrorCode.AddressNotAvailable)]
    [InlineData(Errno.EACCES, ErrorCode.AccessDenied)]
    [InlineData(Errno.ECONNRESET, ErrorCode.ConnectionReset)]
    [InlineData(Errno.ETIMEDOUT, ErrorCode.TimedOut)]
    public void ToNetMQ_OtherErrno_CarriesErrorCodeAndInner(Errno errno, ErrorCode code)
    {
        var vmci = VmciError.Create(errno, VmciOperation.Connect, "vmci://2:1");
        var e = NetMQErrors.ToNetMQ(vmci);
        Assert.Equal(code, e.ErrorCode);
        Assert.Same(vmci, e.InnerException);
    }
}
