using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>SPEC §2: unbind matches the resolved string and drops the peers it accepted.</summary>
public abstract partial class NetMqConformance
{
    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_WildcardString_ThrowsEndpointNotFound()
    {
        var socket = Socket("PAIR");
        BindAny(socket);
        VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind("vmci://*:*"));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_LastEndpoint_SucceedsAndFreesThePort()
    {
        var socket = Socket("PAIR");
        var bound = BindAny(socket);
        socket.VmciUnbind(bound);
        var other = Socket("PAIR");
        other.VmciBind(bound);
        Assert.Equal(bound, other.VmciLastEndpoint());
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_Twice_SecondThrowsEndpointNotFound()
    {
        var socket = Socket("PAIR");
        var bound = BindAny(socket);
        socket.VmciUnbind(bound);
        VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind(bound));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_AtForm_ThrowsEndpointNotFoundNumericFormWorks()
    {
        var socket = Socket("PAIR");
        socket.VmciBind("vmci://@:*");
        var bound = socket.VmciLastEndpoint()!;
        VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind($"vmci://@:{PortOf(bound)}"));
        socket.VmciUnbind(bound);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_NeverBound_ThrowsEndpointNotFound()
    {
        var socket = Socket("PAIR");
        VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind(Endpoint(LocalCid, 5555)));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_ConnectedEndpoint_ThrowsEndpointNotFound()
    {
        var socket = Socket("PAIR");
        var target = Endpoint(LocalCid, FreePort());
        socket.VmciConnect(target);
        VmciAssert.ThrowsNetMq<EndpointNotFoundException>(Errno.ENOENT, () => socket.VmciUnbind(target));
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_OneOfTwoEndpoints_OtherStaysBound()
    {
        var server = Socket("PULL");
        var first = BindAny(server);
        var second = BindAny(server);
        server.VmciUnbind(first);
        var client = Socket("PUSH");
        client.VmciConnect(Target(second));
        Bounce.Check(server, client);
        var other = Socket("PAIR");
        other.VmciBind(first);
    }

    [Fact]
    [Trait("Spec", "§2")]
    public async Task Unbind_WithAcceptedPeer_DropsTheConnection()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var server = Socket("PAIR");
        var bound = BindAny(server);
        using var raw = await watchdog.Guard(Network.ConnectAsync(new VsockAddress(LoopbackCid, PortOf(bound)), null, watchdog.Token).AsTask());
        // The ZMTP greeting coming back proves the relay accepted and wired the connection.
        var buffer = new byte[256];
        Assert.True(await watchdog.Guard(raw.ReceiveAsync(buffer, watchdog.Token).AsTask()) > 0, "no greeting from the bound socket");
        server.VmciUnbind(bound);
        Assert.True(await DrainAsync(raw, buffer, watchdog.Token), "the accepted connection outlived the unbind");
    }

    [Fact]
    [Trait("Spec", "§2")]
    public void Unbind_ThenRebindSamePort_PeerReconnects()
    {
        var server = Socket("PULL");
        var client = Socket("PUSH");
        var bound = Link(server, client);
        Delivery.Eventually(client, server, "before");
        server.VmciUnbind(bound);
        var replacement = Socket("PULL");
        replacement.VmciBind(bound);
        Delivery.Eventually(client, replacement, "after");
    }

    /// <summary>Reads until end of stream or a reset: true when the connection ended.</summary>
    private static async Task<bool> DrainAsync(IVsockConnection connection, byte[] buffer, CancellationToken ct)
    {
        try
        {
            while (await connection.ReceiveAsync(buffer, ct).AsTask().WaitAsync(ct) > 0)
            {
            }
            return true;
        }
        catch (VmciException)
        {
            return true;
        }
    }
}
