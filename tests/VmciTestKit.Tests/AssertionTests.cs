using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace VmciTestKit.Tests;

/// <summary>What the kit's checks report when they fail, and what they let through.</summary>
public sealed class AssertionTests
{
    private static VmciException Error(Errno errno) => VmciError.Create(errno, VmciOperation.Bind, "vmci://*:1", "the rule");

    [Fact]
    public void AssertionException_IsAnAssertionForXunit() =>
        Assert.Contains(typeof(VmciAssertionException).GetInterfaces(), i => i.Name == "IAssertionException");

    [Fact]
    public void Throws_RightErrno_ReturnsTheException() =>
        Assert.Equal(VmciOperation.Bind, VmciAssert.Throws(Errno.EINVAL, () => throw Error(Errno.EINVAL)).Operation);

    [Fact]
    public void Throws_WrongErrno_FailsNamingBoth()
    {
        var e = Assert.Throws<VmciAssertionException>(() => VmciAssert.Throws(Errno.EINVAL, () => throw Error(Errno.EADDRINUSE)));

        Assert.StartsWith("expected EINVAL, got EADDRINUSE: bind 'vmci://*:1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Throws_NothingThrown_Fails() =>
        Assert.Contains("nothing was thrown", Assert.Throws<VmciAssertionException>(() => VmciAssert.Throws(Errno.EINVAL, () => { })).Message, StringComparison.Ordinal);

    [Fact]
    public void Throws_OtherException_GoesOnUnchanged() =>
        Assert.Throws<InvalidOperationException>(() => VmciAssert.Throws(Errno.EINVAL, () => throw new InvalidOperationException()));

    [Fact]
    public async Task ThrowsAsync_WrongErrno_Fails() =>
        await Assert.ThrowsAsync<VmciAssertionException>(() => VmciAssert.ThrowsAsync(Errno.EPIPE, () => Task.FromException(Error(Errno.ECONNRESET))));

    [Fact]
    public void ThrowsNetMq_CarriesTheErrno_ReturnsIt()
    {
        using var fabric = new TestFabric();
        using var socket = new PairSocket();
        socket.VmciOptions().Network = fabric.Host;

        var e = VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind("vmci://*:*"));

        Assert.Equal(Errno.ENOENT, Assert.IsType<VmciException>(e.InnerException).Errno);
    }

    [Fact]
    public void ThrowsNetMq_NoVmciExceptionInside_Fails()
    {
        var e = Assert.Throws<VmciAssertionException>(() => VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => throw new InvalidException("NetMQ's own")));

        Assert.Contains("carries no VmciException", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowsNetMq_OtherNetMqException_Fails() =>
        Assert.Throws<VmciAssertionException>(() => VmciAssert.ThrowsNetMq<InvalidException>(() => throw new EndpointNotFoundException("other")));

    [Fact]
    public async Task ReadExactly_StreamEndsEarly_FailsSayingHowFar()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var fabric = new TestFabric();
        using var listener = fabric.Host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        using var pair = await VsockStreams.ConnectPairAsync(fabric.Machine(3), listener, new VsockAddress(VmciCid.Host, listener.LocalAddress.Port), watchdog.Token);
        await pair.Client.SendAsync(new byte[3], watchdog.Token);
        pair.Client.ShutdownSend();

        var e = await Assert.ThrowsAsync<VmciAssertionException>(() => pair.Server.ReadExactlyAsync(10, watchdog.Token));

        Assert.Equal("end of stream after 3 of 10 bytes", e.Message);
    }

    [Fact]
    public void Bounce_NoPeer_FailsAfterTheTimeout()
    {
        using var fabric = new TestFabric();
        using var server = new PairSocket();
        using var client = new PairSocket();
        server.Options.Linger = client.Options.Linger = TimeSpan.Zero;

        var e = Assert.Throws<VmciAssertionException>(() => Bounce.Check(server, client, TimeSpan.FromMilliseconds(100)));

        Assert.Equal("the client could not send within 0.1 s (no peer connected)", e.Message);
    }

    [Fact]
    public void Eventually_WrongMessageArrives_FailsNamingIt()
    {
        using var server = new PullSocket();
        using var client = new PushSocket();
        server.Options.Linger = client.Options.Linger = TimeSpan.Zero;
        server.Bind("inproc://eventually");
        client.Connect("inproc://eventually");
        client.SendFrame("stale");

        var e = Assert.Throws<VmciAssertionException>(() => Delivery.Eventually(client, server, "fresh"));

        Assert.Equal("expected 'fresh', received 'stale'", e.Message);
    }
}
