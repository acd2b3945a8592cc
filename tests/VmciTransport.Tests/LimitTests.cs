using System.Globalization;
using System.Net.Sockets;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>
/// Limits a hostile peer cannot get around (issue #14), in both modes: the cap on accepted connections (the simulator
/// refuses at its handshake with ECONNRESET), the bound on a peer that never completes its ZMTP greeting, strangers
/// speaking something else, and linger covering connections still being made.
/// </summary>
public sealed class LimitTests : IDisposable
{
    private static readonly byte[] Greeting = MakeGreeting();
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    public static TheoryData<VmciTransportMode> Modes => [VmciTransportMode.Direct, VmciTransportMode.Relay];

    private T Socket<T>(T socket, VmciTransportMode mode, IVsockNetwork? network = null) where T : NetMQSocket
    {
        _fabric.Socket(socket, network);
        socket.VmciOptions().TransportMode = mode;
        return socket;
    }

    private static VsockAddress Address(string bound) => new(VmciCid.Host, uint.Parse(bound[(bound.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Cap_ConnectionsBeyondIt_RefusedAtTheHandshakeWithEconnreset(VmciTransportMode mode)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Socket(new PullSocket(), mode);
        server.VmciOptions().MaxConnections = 2;
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        var endpoint = SocketState.Find(server)!.FindBind(bound)!;
        using var first = await _fabric.Guest.ConnectAsync(Address(bound), null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);
        using var second = await _fabric.Guest.ConnectAsync(Address(bound), null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);
        _fabric.Watchdog.Until(() => endpoint.ConnectionCount == 2, "both connections were taken");

        var e = await Assert.ThrowsAsync<VmciException>(() => _fabric.Guest.ConnectAsync(Address(bound), null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct));
        Assert.Equal(Errno.ECONNRESET, e.Errno);

        // A slot that frees up is taken again.
        first.Dispose();
        _fabric.Watchdog.Until(() => endpoint.ConnectionCount == 1, "the closed connection freed its slot");
        var client = Socket(new PushSocket(), mode, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("within the cap");
        Assert.Equal("within the cap", Delivery.ReceiveString(server));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Greeting_NeverSent_ConnectionClosedAfterTheHandshakeTimeout(VmciTransportMode mode)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Socket(new PullSocket(), mode);
        server.VmciOptions().HandshakeTimeout = TimeSpan.FromMilliseconds(200);
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        var endpoint = SocketState.Find(server)!.FindBind(bound)!;
        using var silent = await _fabric.Guest.ConnectAsync(Address(bound), null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);

        await ReadUntilClosedAsync(silent, ct);
        _fabric.Watchdog.Until(() => endpoint.HandshakeDeadlines == 1, "the deadline was counted");
        Assert.Equal(1, endpoint.HandshakeTimeouts);
        _fabric.Watchdog.Until(() => endpoint.ConnectionCount == 0, "the silent connection's slot was freed");

        // A peer that completes its handshake is not touched, however long it then stays quiet.
        var client = Socket(new PushSocket(), mode, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("first");
        Assert.Equal("first", Delivery.ReceiveString(server));
        _fabric.Watchdog.Until(() => endpoint.HandshakeDeadlines == 2, "the handshake deadline of the good peer passed");
        client.SendFrame("second");
        Assert.Equal("second", Delivery.ReceiveString(server));
        Assert.Equal(1, endpoint.HandshakeTimeouts);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Peer_BrokenZmtpGreeting_ClosedWithNothingButAGreeting_ServerCarriesOn(VmciTransportMode mode)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Socket(new ResponseSocket(), mode);
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        using var stranger = await _fabric.Guest.ConnectAsync(Address(bound), null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);
        var broken = (byte[])Greeting.Clone();
        "JUNK"u8.CopyTo(broken.AsSpan(12)); // a mechanism nobody speaks
        await stranger.SendAsync(broken, ct);
        await stranger.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ct);
        var got = await ReadUntilClosedAsync(stranger, ct);
        Assert.True(got <= Greeting.Length, $"the stranger read {got} bytes: more than a greeting");
        Assert.False(server.TryReceiveFrameString(TimeSpan.Zero, out _));

        var client = Socket(new RequestSocket(), mode, _fabric.Guest);
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("legit");
        Assert.Equal("legit", Delivery.ReceiveString(server));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Stranger_RawUnixSocketToTheListenerFile_RefusedByTheSimulatorHandshake(VmciTransportMode mode)
    {
        var server = Socket(new PullSocket(), mode);
        server.VmciBind("vmci://*:*");
        var port = Address(server.VmciLastEndpoint()!).Port;
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        raw.Connect(new UnixDomainSocketEndPoint(Path.Combine(_fabric.Sim.Directory, "2", port.ToString(CultureInfo.InvariantCulture))));
        raw.Send(Greeting);
        raw.ReceiveTimeout = (int)Watchdog.DefaultTimeout.TotalMilliseconds;
        var reply = new byte[64];
        var n = raw.Receive(reply);
        Assert.Equal("ER 022\n", Encoding.ASCII.GetString(reply, 0, n));
        Assert.False(server.TryReceiveFrameString(TimeSpan.Zero, out _));
        Assert.Equal(0, SocketState.Find(server)!.FindBind(server.VmciLastEndpoint()!)!.ConnectionCount);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dispose_WhileConnecting_WithLinger_DeliversEverythingWhenThePeerBindsLater(VmciTransportMode mode)
    {
        const int count = 200;
        var probe = Socket(new PullSocket(), mode);
        probe.VmciBind("vmci://*:*");
        var bound = probe.VmciLastEndpoint()!;
        probe.VmciUnbind(bound);

        IConnectEndpoint connect;
        using (var push = new PushSocket())
        {
            push.Options.Linger = TimeSpan.FromSeconds(30);
            push.Options.ReconnectInterval = TimeSpan.FromMilliseconds(50);
            push.VmciOptions().Network = _fabric.Guest;
            push.VmciOptions().TransportMode = mode;
            push.VmciConnect(Fabric.ToHost(bound));
            for (var i = 0; i < count; i++)
                push.SendFrame(i.ToString(CultureInfo.InvariantCulture));
            connect = SocketState.Find(push)!.FindConnects(Fabric.ToHost(bound)).Single();
        }
        // Closed with linger, nobody listening yet: it keeps trying.
        var attempts = connect.Attempts;
        _fabric.Watchdog.Until(() => connect.Attempts >= attempts + 3, "the disposed socket kept trying to connect");

        var pull = Socket(new PullSocket(), mode);
        pull.VmciBind(bound);
        for (var i = 0; i < count; i++)
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), Delivery.ReceiveString(pull));
    }

    private static async Task<int> ReadUntilClosedAsync(IVsockConnection connection, CancellationToken ct)
    {
        var total = 0;
        var buffer = new byte[1024];
        while (true)
        {
            int n;
            try
            {
                n = await connection.ReceiveAsync(buffer, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);
            }
            catch (VmciException e) when (e.Errno is Errno.ECONNRESET or Errno.EPIPE)
            {
                return total;
            }
            if (n == 0)
                return total;
            total += n;
        }
    }

    private static byte[] MakeGreeting()
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        return greeting;
    }
}
