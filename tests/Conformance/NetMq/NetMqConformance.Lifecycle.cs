using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>
/// SPEC §8: socket lifecycle — single-connect types, linger covering connections still being made, the port free when
/// unbind/close returns, the thread-safe socket types, one refusal for an invalid option value. Runs in the transport mode
/// of the process (<c>VMCI_TRANSPORT_MODE</c>); CI runs the suite in both.
/// </summary>
public abstract partial class NetMqConformance
{
    [Theory]
    [InlineData("DEALER")]
    [InlineData("REQ")]
    [Trait("Spec", "§8")]
    public void Connect_SingleConnectTypeTwiceSameString_OnePipe(string type)
    {
        var port = FreePort();
        var client = Socket(type);
        var endpoint = Endpoint(LoopbackCid, port);
        client.VmciConnect(endpoint);
        client.VmciConnect(endpoint); // a no-op: with two pipes, requests would alternate between two routing ids
        var router = Socket("ROUTER");
        router.VmciBind($"vmci://*:{port}");
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            client.SendMoreFrameEmpty().SendFrame(i.ToString(CultureInfo.InvariantCulture));
            var request = Delivery.Receive(router);
            ids.Add(Convert.ToHexString(request[0].ToByteArray()));
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), request.Last.ConvertToString());
            if (type == "REQ")
            {
                router.SendMoreFrame(request[0].ToByteArray()).SendMoreFrameEmpty().SendFrame("reply");
                Assert.Equal("reply", Delivery.Receive(client).Last.ConvertToString());
            }
        }
        Assert.Single(ids.Distinct());
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void Connect_OtherTypeTwiceSameString_OneMorePipe()
    {
        var server = Socket("PULL");
        var bound = BindAny(server);
        var client = Socket("PUSH");
        client.VmciConnect(Target(bound));
        client.VmciConnect(Target(bound));
        WaitUntil(() => Network.Accepted.Count == 2, "both connects made their connection");
        client.SendFrame("one");
        client.SendFrame("two");
        Assert.Equal(["one", "two"], new[] { Delivery.Receive(server)[0].ConvertToString(), Delivery.Receive(server)[0].ConvertToString() }.Order());
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void Close_WithLinger_KeepsConnectingAndDeliversWhatWasQueued() =>
        CloseNobodyListening_ThenBind_DeliversEverything(200, TimeSpan.FromSeconds(30), null);

    [Fact]
    [Trait("Spec", "§8")]
    public void Close_LingerSetJustBeforeDispose_IsTheLingerThatCounts() =>
        // The value at connect time is not the one at close, which is what libzmq applies.
        CloseNobodyListening_ThenBind_DeliversEverything(50, TimeSpan.Zero, TimeSpan.FromSeconds(30));

    /// <summary>
    /// A PUSH connects to a port nobody listens on, queues <paramref name="count"/> messages and is disposed (linger
    /// <paramref name="lingerAtConnect"/>, then <paramref name="lingerAtClose"/> just before Dispose when given); it keeps
    /// trying, and the PULL that binds the port gets everything, in order.
    /// </summary>
    private void CloseNobodyListening_ThenBind_DeliversEverything(int count, TimeSpan lingerAtConnect, TimeSpan? lingerAtClose)
    {
        var port = FreePort();
        using (var push = new PushSocket())
        {
            push.Options.Linger = lingerAtConnect;
            push.Options.ReconnectInterval = TimeSpan.FromMilliseconds(50);
            push.VmciOptions().Network = Network;
            push.VmciConnect(Endpoint(LoopbackCid, port));
            for (var i = 0; i < count; i++)
                push.SendFrame(i.ToString(CultureInfo.InvariantCulture));
            if (lingerAtClose is { } linger)
                push.Options.Linger = linger;
        }
        // Closed, nobody listening: it keeps trying (every failure counted at the seam) ...
        var failed = Network.FailedConnects;
        WaitUntil(() => Network.FailedConnects >= failed + 2, "the closed socket kept trying to connect");
        // ... and the peer that appears gets everything, in order.
        var pull = Socket("PULL");
        pull.VmciBind($"vmci://*:{port}");
        for (var i = 0; i < count; i++)
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), Delivery.Receive(pull)[0].ConvertToString());
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void Unbind_PortFreeOnReturn_AnyListenerCanTakeIt()
    {
        var server = Socket("PULL");
        var bound = BindAny(server);
        server.VmciUnbind(bound);
        using var raw = Network.Listen(new VsockAddress(VmciCid.Any, PortOf(bound)));
        Assert.Equal(PortOf(bound), raw.LocalAddress.Port);
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void Close_BoundSocket_ImmediateRebindSucceeds()
    {
        var first = Socket("PULL");
        var bound = BindAny(first);
        first.Dispose();
        var again = Socket("PULL");
        again.VmciBind(bound);
        var client = Socket("PUSH");
        client.VmciConnect(Target(bound));
        client.SendFrame("to the new socket");
        Assert.Equal("to the new socket", Delivery.Receive(again)[0].ConvertToString());
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void ThreadSafe_ServerClient_RequestAndReplyByRoutingId()
    {
        var server = ThreadSafe(new ServerSocket());
        var client = ThreadSafe(new ClientSocket());
        server.VmciBind("vmci://*:*");
        client.VmciConnect(Target(server.VmciLastEndpoint()!));
        client.Send("hello");
        Assert.True(server.TryReceiveString(Watchdog.DefaultTimeout, out var routingId, out var request, TestContext.Current.CancellationToken));
        Assert.Equal("hello", request);
        server.Send(routingId, "world");
        Assert.True(client.TryReceiveString(Watchdog.DefaultTimeout, out var reply, TestContext.Current.CancellationToken));
        Assert.Equal("world", reply);
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void ThreadSafe_ScatterGather_Delivers()
    {
        var gather = ThreadSafe(new GatherSocket());
        var scatter = ThreadSafe(new ScatterSocket());
        gather.VmciBind("vmci://*:*");
        scatter.VmciConnect(Target(gather.VmciLastEndpoint()!));
        scatter.Send("scattered");
        Assert.True(gather.TryReceiveString(Watchdog.DefaultTimeout, out var got, TestContext.Current.CancellationToken));
        Assert.Equal("scattered", got);
    }

    [Fact]
    [Trait("Spec", "§8")]
    public void ThreadSafe_RadioDish_JoinedGroupDelivered()
    {
        var dish = ThreadSafe(new DishSocket());
        var radio = ThreadSafe(new RadioSocket());
        dish.Join("news");
        dish.VmciBind("vmci://*:*");
        radio.VmciConnect(Target(dish.VmciLastEndpoint()!));
        var deadline = DateTime.UtcNow + Watchdog.DefaultTimeout;
        string? group = null;
        string? body = null;
        while (group is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no broadcast arrived within the watchdog");
            radio.Send("sports", "ignored");
            radio.Send("news", "delivered");
            dish.TryReceiveString(TimeSpan.FromMilliseconds(50), out group, out body, TestContext.Current.CancellationToken);
        }
        Assert.Equal(("news", "delivered"), (group, body));
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(-1000)]
    [Trait("Spec", "§8")]
    public void Options_InvalidValue_SameRefusalByPropertyAndById(long milliseconds)
    {
        var options = Socket("PAIR").VmciOptions();
        var byId = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => options[VmciSocketOption.ConnectTimeout] = milliseconds);
        var byProperty = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => options.ConnectTimeout = TimeSpan.FromMilliseconds(milliseconds));
        Assert.Equal(byId.Message[byId.Message.LastIndexOf(": ", StringComparison.Ordinal)..], byProperty.Message[byProperty.Message.LastIndexOf(": ", StringComparison.Ordinal)..]);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
    }

    /// <summary>A thread-safe socket on <see cref="Network"/>, linger 0, disposed at the end of the test.</summary>
    private T ThreadSafe<T>(T socket)
        where T : ThreadSafeSocket
    {
        Own(socket);
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(20);
        socket.VmciOptions().Network = Network;
        return socket;
    }
}
