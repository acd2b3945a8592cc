using System.Net.Sockets;
using System.Text;
using Vmci;
using Vmci.Sim;
using Vmci.Sim.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>The UDS handshake: format, parse, and a listener's robustness against bad connectors.</summary>
public sealed class HandshakeTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    [Fact]
    public void Request_RoundTrips()
    {
        var line = Handshake.FormatRequest(new VsockAddress(2, 4000000000), new VsockAddress(1, 5));

        Assert.Null(Handshake.TryParseRequest(line, out var request));
        Assert.Equal("VMCI1 2 4000000000 1 5\n", Encoding.ASCII.GetString(line));
        Assert.Equal(new VsockAddress(2, 4000000000), request.Source);
        Assert.Equal(new VsockAddress(1, 5), request.Destination);
    }

    [Theory]
    [InlineData("", Errno.EINVAL)]
    [InlineData("VMCI1 2 3 4 5", Errno.EINVAL)]
    [InlineData("VMCI1 2 3 4\n", Errno.EINVAL)]
    [InlineData("VMCI1 2 3 4 5 6\n", Errno.EINVAL)]
    [InlineData("VMCI1 2 03 4 5\n", Errno.EINVAL)]
    [InlineData("VMCI1 2 3 4 4294967296\n", Errno.EINVAL)]
    [InlineData("VMCI1 2  3 4 5\n", Errno.EINVAL)]
    [InlineData("VMCI1 -2 3 4 5\n", Errno.EINVAL)]
    [InlineData("VMCI2 2 3 4 5\n", Errno.EPROTONOSUPPORT)]
    [InlineData("CONNECT 5\n", Errno.EINVAL)]
    public void ParseRequest_Malformed_Refused(string text, Errno expected)
    {
        Assert.Equal(expected, Handshake.TryParseRequest(Encoding.ASCII.GetBytes(text), out _));
    }

    [Fact]
    public void Reply_RoundTrips()
    {
        Assert.Null(Handshake.ParseReply(Handshake.FormatReply(null)));
        Assert.Equal(Errno.ECONNRESET, Handshake.ParseReply(Handshake.FormatReply(Errno.ECONNRESET)));
        Assert.Equal(Errno.EIO, Handshake.ParseReply("XX 000\n"u8));
    }

    public static TheoryData<byte[]> BadRequests()
    {
        var random = new Random(1234);
        var data = new TheoryData<byte[]> { "VMCI1 2 3"u8.ToArray(), new byte[Handshake.MaxRequestBytes * 4], "VMCI9 2 3 5 1\n"u8.ToArray(), "VMCI1 2 3 5 1\nextra"u8.ToArray() };
        for (var i = 0; i < 8; i++)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            data.Add(bytes);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Listener_BadHandshake_RefusesItAndKeepsAccepting(byte[] request)
    {
        var guest = Fabric.Machine(5);
        using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        ((SimListener)listener).HandshakeTimeout = TimeSpan.FromMilliseconds(200);
        var port = listener.LocalAddress.Port;

        using (var raw = Fabric.ConnectRaw(5, port))
        {
            try
            {
                await raw.SendAsync(request, SocketFlags.None, Watchdog.Token);
                raw.Shutdown(SocketShutdown.Send);
                // Refused or closed: never accepted. The listener answers at most one reply, then closes.
                var reply = new byte[64];
                var total = 0;
                int n;
                while ((n = await Watchdog.Guard(raw.ReceiveAsync(reply.AsMemory(total), SocketFlags.None, Watchdog.Token))) > 0)
                    total += n;
                Assert.True(total is 0 or Handshake.ReplyBytes, $"reply of {total} bytes");
                if (total > 0)
                    Assert.NotNull(Handshake.ParseReply(reply.AsSpan(0, total)));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
            {
                // The listener closed before reading everything: also a refusal.
            }
        }

        var (client, server) = await VsockStreams.ConnectPairAsync(Fabric.Machine(2), listener, new VsockAddress(5, port), Watchdog.Token);
        client.Dispose();
        server.Dispose();
    }

    [Fact]
    public async Task Listener_SlowHandshake_ClosedAfterTimeoutWithoutBlockingOthers()
    {
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        ((SimListener)listener).HandshakeTimeout = TimeSpan.FromMilliseconds(200);
        var port = listener.LocalAddress.Port;
        using var slow = Fabric.ConnectRaw(5, port);
        await slow.SendAsync("VMCI1 2"u8.ToArray(), SocketFlags.None, Watchdog.Token);

        var (client, server) = await VsockStreams.ConnectPairAsync(Fabric.Machine(2), listener, new VsockAddress(5, port), Watchdog.Token);
        client.Dispose();
        server.Dispose();

        var n = await Watchdog.Guard(slow.ReceiveAsync(new byte[16], SocketFlags.None, Watchdog.Token));
        Assert.Equal(0, n);
    }

    /// <summary>
    /// A connector that leaves after its request has passed the checks, before the answer (the listener's reply fails with
    /// EPIPE), must not keep its place in the backlog: with a backlog of 0 (one place), one such leak refused every later
    /// connect.
    /// </summary>
    [Fact]
    public async Task Listener_ConnectorLeavesBeforeTheAnswer_FreesItsPlaceInTheBacklog()
    {
        var host = Fabric.Machine(2);
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), backlog: 0);
        var port = listener.LocalAddress.Port;
        Socket? leaver = null;
        ((SimListener)listener).Admit = () =>
        {
            Interlocked.Exchange(ref leaver, null)?.Dispose(); // the leaver goes just before its answer
            return true;
        };
        for (var round = 0; round < 4; round++)
        {
            var raw = Fabric.ConnectRaw(5, port, boundIn: 2);
            Volatile.Write(ref leaver, raw);
            await raw.SendAsync(Handshake.FormatRequest(new VsockAddress(2, 4_000_000_000 + (uint)round), new VsockAddress(5, port)), SocketFlags.None, Watchdog.Token);
            Watchdog.Until(() => Volatile.Read(ref leaver) is null, $"round {round}: the leaver's request to pass the listener's checks");

            // Refused only while the leaver's failed answer is being undone; accepted after.
            IVsockConnection? client = null;
            Watchdog.Until(() => (client = TryConnect(host, new VsockAddress(5, port))) is not null, $"round {round}: a connect to be accepted after the leaver left");
            using (client)
            using (await Watchdog.Guard(listener.AcceptAsync(Watchdog.Token)))
            {
            }
        }
    }

    private IVsockConnection? TryConnect(SimNetwork network, VsockAddress target)
    {
        try
        {
            return network.ConnectAsync(target, null, Watchdog.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (VmciException e) when (e.Errno == Errno.ECONNRESET)
        {
            return null;
        }
    }

    [Fact]
    public async Task Listener_SpoofedLoopbackSource_Refused()
    {
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = listener.LocalAddress.Port;
        using var raw = Fabric.ConnectRaw(5, port);

        await raw.SendAsync(Handshake.FormatRequest(new VsockAddress(7, 3000), new VsockAddress(VmciCid.Local, port)), SocketFlags.None, Watchdog.Token);
        var reply = new byte[Handshake.ReplyBytes];
        var n = await Watchdog.Guard(raw.ReceiveAsync(reply, SocketFlags.None, Watchdog.Token));

        Assert.Equal(Handshake.ReplyBytes, n);
        Assert.Equal(Errno.ECONNRESET, Handshake.ParseReply(reply));
    }
}
