using NetMQ;
using Vmci.TestKit.Agent;

namespace Conformance.TwoMachine;

/// <summary>SPEC §2–§4, §8, §9: NetMQ sockets with vmci endpoints, the binding socket on one machine, the connecting one on the other.</summary>
public abstract partial class TwoMachineConformance
{
    private const string Content = "12345678ABCDEFGH12345678abcdefgh";
    private static readonly RemoteFrame[] Bounce = [RemoteFrame.Of(Content), RemoteFrame.Of(Content)];

    [Theory]
    [InlineData(Listener.Local, "PAIR", "PAIR")]
    [InlineData(Listener.Peer, "PAIR", "PAIR")]
    [InlineData(Listener.Local, "REP", "REQ")]
    [InlineData(Listener.Peer, "REP", "REQ")]
    [InlineData(Listener.Local, "ROUTER", "DEALER")]
    [InlineData(Listener.Peer, "ROUTER", "DEALER")]
    [InlineData(Listener.Local, "ROUTER", "REQ")]
    [InlineData(Listener.Peer, "ROUTER", "REQ")]
    [InlineData(Listener.Local, "DEALER", "DEALER")]
    [InlineData(Listener.Peer, "DEALER", "DEALER")]
    [InlineData(Listener.Local, "PULL", "PUSH")]
    [InlineData(Listener.Peer, "PULL", "PUSH")]
    [InlineData(Listener.Local, "PUB", "SUB")]
    [InlineData(Listener.Peer, "PUB", "SUB")]
    [InlineData(Listener.Local, "XPUB", "SUB")]
    [InlineData(Listener.Peer, "XPUB", "SUB")]
    [Trait("Spec", "§9 §3")]
    public async Task TwoMachine_Pattern_Bounces(Listener listener, string server, string client)
    {
        var (listening, connecting) = Sides(listener);
        var (s, c) = await LinkAsync(listening, server, connecting, client);
        await BounceAsync(s, server, c, client);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §3")]
    public async Task TwoMachine_Curve_EncryptedBounce(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var serverKey = new NetMQCertificate();
        var s = await listening.SocketAsync("REP", new RemoteSocketOptions { CurveSecretKey = serverKey.SecretKeyZ85, CurveServer = true });
        var c = await connecting.SocketAsync("REQ",
            new RemoteSocketOptions { CurveSecretKey = new NetMQCertificate().SecretKeyZ85, CurveServerKey = serverKey.PublicKeyZ85 });
        await c.ConnectAsync(Target(listening, await s.BindAsync("vmci://*:*")));
        await BounceAsync(s, "REP", c, "REQ");
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §3")]
    public async Task TwoMachine_LargeMessage_16MiBBothWays(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var (s, c) = await LinkAsync(listening, "PAIR", connecting, "PAIR");
        var big = RemoteFrame.Payload(16 << 20, 9);
        await c.SendAsync([big]);
        Assert.Equal(big.Sha256, Assert.Single(await ReceiveAsync(s)).Sha256);
        await s.SendAsync([big]);
        Assert.Equal(big.Sha256, Assert.Single(await ReceiveAsync(c)).Sha256);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §3")]
    public async Task TwoMachine_ConnectBeforeBind_QueuedMessagesFlow(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var port = await FreePortAsync(listening);
        var c = await connecting.SocketAsync("PUSH", new RemoteSocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20) });
        Assert.Equal($"vmci://{listening.Cid}:{port}", await c.ConnectAsync($"vmci://{listening.Cid}:{port}"));
        await c.SendAsync(Bounce);
        var s = await listening.SocketAsync("PULL");
        await s.BindAsync($"vmci://*:{port}");
        Assert.Equal([Content, Content], (await ReceiveAsync(s)).Select(f => f.Text));
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §3")]
    public async Task TwoMachine_Reconnect_AfterTheBindingSocketRestarts(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var s = await listening.SocketAsync("PAIR");
        var bound = await s.BindAsync("vmci://*:*");
        var c = await connecting.SocketAsync("PAIR", new RemoteSocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20) });
        await c.ConnectAsync(Target(listening, bound));
        await BounceAsync(s, "PAIR", c, "PAIR");
        await s.CloseAsync();
        var restarted = await listening.SocketAsync("PAIR");
        await RebindAsync(restarted, bound);
        Assert.Equal("after restart", Assert.Single(await SendUntilOneArrivesAsync(c, restarted, "after restart")).Text);
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §2")]
    public async Task TwoMachine_Unbind_DropsThePeerWhichReconnectsOnRebind(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var s = await listening.SocketAsync("PULL");
        var bound = await s.BindAsync("vmci://*:*");
        var c = await connecting.SocketAsync("PUSH", new RemoteSocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20) });
        await c.ConnectAsync(Target(listening, bound));
        await c.SendAsync([RemoteFrame.Of("before")]);
        Assert.Equal("before", Assert.Single(await ReceiveAsync(s)).Text);
        await s.UnbindAsync(bound);
        await c.SendAsync([RemoteFrame.Of("while unbound")]);
        Assert.Null(await s.TryReceiveAsync(TimeSpan.FromMilliseconds(500)));
        await RebindAsync(s, bound);
        Assert.Contains(Assert.Single(await SendUntilOneArrivesAsync(c, s, "again")).Text, new[] { "while unbound", "again" });
    }

    [Theory]
    [InlineData(Listener.Local)]
    [InlineData(Listener.Peer)]
    [Trait("Spec", "§9 §8")]
    public async Task TwoMachine_Linger_CoversAConnectStillBeingMade(Listener listener)
    {
        var (listening, connecting) = Sides(listener);
        var port = await FreePortAsync(listening);
        var c = await connecting.SocketAsync("PUSH", new RemoteSocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(50) });
        await c.ConnectAsync($"vmci://{listening.Cid}:{port}");
        for (var i = 0; i < 20; i++)
            await c.SendAsync([RemoteFrame.Of($"m{i}")]);
        await c.CloseAsync(TimeSpan.FromSeconds(30));
        // The scenario, not a wait for a condition: the receiver comes up two seconds after the sender has closed.
        await Task.Delay(TimeSpan.FromSeconds(2), Token);
        var s = await listening.SocketAsync("PULL");
        await s.BindAsync($"vmci://*:{port}");
        for (var i = 0; i < 20; i++)
            Assert.Equal($"m{i}", Assert.Single(await ReceiveAsync(s)).Text);
    }

    [Fact]
    [Trait("Spec", "§9 §8")]
    public async Task TwoMachine_SingleConnect_DealerConnectsTwice_OnePipe()
    {
        var (listening, connecting) = Sides(Listener.Peer);
        var router = await listening.SocketAsync("ROUTER");
        var endpoint = Target(listening, await router.BindAsync("vmci://*:*"));
        var dealer = await connecting.SocketAsync("DEALER");
        await dealer.ConnectAsync(endpoint);
        await dealer.ConnectAsync(endpoint);
        for (var i = 0; i < 4; i++)
            await dealer.SendAsync([RemoteFrame.Of($"d{i}")]);
        var identities = new HashSet<string?>();
        for (var i = 0; i < 4; i++)
            identities.Add((await ReceiveAsync(router))[0].Sha256);
        Assert.Single(identities);
    }

    private static async Task<(ISocketEnd Server, ISocketEnd Client)> LinkAsync(IMachine listening, string server, IMachine connecting, string client)
    {
        var s = await listening.SocketAsync(server);
        var c = await connecting.SocketAsync(client, new RemoteSocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20) });
        await c.ConnectAsync(Target(listening, await s.BindAsync("vmci://*:*")));
        return (s, c);
    }

    /// <summary>libzmq's bounce across machines: two frames from the client, echoed by the server (one way for PUSH/PULL, PUB/SUB).</summary>
    private static async Task BounceAsync(ISocketEnd server, string serverType, ISocketEnd client, string clientType)
    {
        if (clientType == "SUB")
        {
            await client.SubscribeAsync();
            if (serverType == "XPUB")
                Assert.Equal(1, (await ReceiveAsync(server))[0].Size); // the subscription arrived
            IReadOnlyList<RemoteFrame>? published = null;
            for (var attempt = 0; published is null; attempt++)
            {
                Assert.True(attempt < 600, "the subscriber received nothing within 30 s");
                await server.SendAsync(Bounce);
                published = await client.TryReceiveAsync(TimeSpan.FromMilliseconds(50));
            }
            Assert.Equal([Content, Content], published.Select(f => f.Text));
            return;
        }
        IReadOnlyList<RemoteFrame> outgoing = clientType == "DEALER" && serverType == "REP" ? [RemoteFrame.Of(""), .. Bounce] : Bounce;
        await client.SendAsync(outgoing);
        if (serverType == "PULL")
        {
            Assert.Equal([Content, Content], (await ReceiveAsync(server)).Select(f => f.Text));
            return;
        }
        var received = await server.EchoAsync(TimeSpan.FromSeconds(30)); // envelope frames go back unchanged
        Assert.Equal([Content, Content], received.TakeLast(2).Select(f => f.Text));
        Assert.Equal([Content, Content], (await ReceiveAsync(client)).TakeLast(2).Select(f => f.Text));
    }

    private static async Task<uint> FreePortAsync(IMachine machine)
    {
        var probe = await machine.ListenAsync();
        var port = probe.Address.Port;
        await probe.CloseAsync();
        return port;
    }

    /// <summary>
    /// Sends <paramref name="text"/> from <paramref name="sender"/> until a message reaches <paramref name="receiver"/>
    /// (until the watchdog). ZMQ promises nothing for a message sent before the sender has seen its peer go: it may go
    /// down with the old connection (the reconnect cases lost one that way under load, the peer's socket on another
    /// machine closing a moment after the call returned). What must hold is the reconnect.
    /// </summary>
    private async Task<IReadOnlyList<RemoteFrame>> SendUntilOneArrivesAsync(ISocketEnd sender, ISocketEnd receiver, string text)
    {
        while (true)
        {
            Token.ThrowIfCancellationRequested();
            await sender.SendAsync([RemoteFrame.Of(text)]);
            if (await receiver.TryReceiveAsync(TimeSpan.FromMilliseconds(200)) is { } got)
                return got;
        }
    }

    /// <summary>Binds <paramref name="endpoint"/> again, at once: SPEC §8 says the port is free when close or unbind returns.</summary>
    private static Task<string> RebindAsync(ISocketEnd socket, string endpoint) => socket.BindAsync(endpoint);
}
