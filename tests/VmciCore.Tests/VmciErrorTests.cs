using System.Net.Sockets;
using Vmci;

namespace VmciCore.Tests;

/// <summary>The one error path: every kind of failure maps to one errno, the same from every backend.</summary>
public sealed class VmciErrorTests
{
    [Fact]
    public void Create_MessageNamesOperationEndpointErrnoAndRule()
    {
        var ex = VmciError.Create(Errno.EADDRNOTAVAIL, VmciOperation.Bind, "vmci://7:5555", "CID 7 is not local");

        Assert.Equal("bind 'vmci://7:5555': EADDRNOTAVAIL (Cannot assign requested address): CID 7 is not local", ex.Message);
        Assert.Equal(Errno.EADDRNOTAVAIL, ex.Errno);
        Assert.Equal(VmciOperation.Bind, ex.Operation);
        Assert.Equal(99, ex.HResult);
    }

    [Theory]
    [InlineData(104, Errno.ECONNRESET)]
    [InlineData(19, Errno.ENODEV)]
    [InlineData(99, Errno.EADDRNOTAVAIL)]
    [InlineData(4242, Errno.EIO)]
    public void FromErrno_MapsLinuxNumbers(int native, Errno expected)
    {
        var ex = VmciError.FromErrno(native, VmciOperation.Connect, "vmci://1:2");

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
    [InlineData(SocketError.OperationAborted, Errno.EBADF)]
    [InlineData(SocketError.SocketError, Errno.EIO)]
    public void From_SocketException_MapsItsError(SocketError error, Errno expected)
    {
        var ex = VmciError.From(new SocketException((int)error), VmciOperation.Send, null);

        Assert.Equal(expected, ex.Errno);
        Assert.IsType<SocketException>(ex.InnerException);
    }

    public static TheoryData<Exception, Errno> Exceptions => new()
    {
        { new OperationCanceledException(), Errno.ECANCELED },
        { new TaskCanceledException(), Errno.ECANCELED },
        { new ObjectDisposedException("socket"), Errno.EBADF },
        { new UnauthorizedAccessException("no"), Errno.EACCES },
        { new FileNotFoundException("gone"), Errno.ENOENT },
        { new DirectoryNotFoundException("gone"), Errno.ENOENT },
        { new PathTooLongException("long"), Errno.ENAMETOOLONG },
        { new IOException("exists", 17), Errno.EEXIST },
        { new IOException("loop", 40), Errno.ELOOP },
        { new IOException("unknown", 4242), Errno.EIO },
        { new InvalidOperationException("odd"), Errno.EIO },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public void From_Exception_MapsToOneErrno(Exception exception, Errno expected)
    {
        var ex = VmciError.From(exception, VmciOperation.OpenFabric, "/fabric");

        Assert.Equal(expected, ex.Errno);
        Assert.Same(exception, ex.InnerException);
        Assert.StartsWith("open fabric '/fabric': " + expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_VmciException_IsReturnedUnchanged()
    {
        var original = VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, "vmci://2:1");

        Assert.Same(original, VmciError.From(original, VmciOperation.Send, "other"));
    }

    [Fact]
    public void Describe_EveryErrno_HasText()
    {
        foreach (var errno in Enum.GetValues<Errno>())
            Assert.NotEqual(errno.ToString(), VmciError.Describe(errno));
    }

    [Fact]
    public void Name_EveryOperation_IsLowerCaseWords_HyphenatedTermsAllowed()
    {
        var names = Enum.GetValues<VmciOperation>().Select(VmciError.Name).ToList();

        Assert.All(names, n => Assert.Matches("^[a-z]+(-[a-z]+)?( [a-z]+(-[a-z]+)?)*$", n)); // "vhost-user", "virtio-vsock": the terms as written
        Assert.Equal(names.Count, names.Distinct().Count());
    }
}
