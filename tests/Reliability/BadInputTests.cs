using System.Net.Sockets;
using System.Text;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Figure 5: bad input to simulator listeners — random and truncated handshakes (raw Unix connects to the socket
/// file), oversized requests and frames, the socket file deleted under a listener: each gets a clear answer and the
/// listener serves afterwards. (Random endpoint strings: the FsCheck properties of tests/VmciCore.Tests.)
/// </summary>
public sealed class BadInputTests : FabricTestBase
{
    private readonly Vmci.Sim.SimNetwork _host;
    private readonly IVsockListener _listener;

    public BadInputTests()
        : base(new TestFabric(), Sizes.StartWatchdog())
    {
        _host = Fabric.Machine(VmciCid.Host);
        _listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
    }

    private uint Port => _listener.LocalAddress.Port;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _listener.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Sends <paramref name="bytes"/>, half-closes, returns everything the listener answered before closing.</summary>
    private async Task<string> RawExchangeAsync(byte[] bytes)
    {
        using var raw = Fabric.ConnectRaw(5, Port);
        await Watchdog.Guard(raw.SendAsync(bytes, SocketFlags.None, Watchdog.Token));
        raw.Shutdown(SocketShutdown.Send);
        var reply = new byte[64];
        var length = 0;
        try
        {
            int n;
            while ((n = await Watchdog.Guard(raw.ReceiveAsync(reply.AsMemory(length), SocketFlags.None, Watchdog.Token))) > 0)
                length += n;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        return Encoding.ASCII.GetString(reply, 0, length);
    }

    private async Task AssertServesAsync()
    {
        var accept = _listener.AcceptAsync(Watchdog.Token);
        using var client = await Watchdog.Guard(_host.ConnectAsync(new VsockAddress(5, Port), null, Watchdog.Token));
        using var server = await Watchdog.Guard(accept);
        await Watchdog.Guard(client.SendAsync("still serving"u8.ToArray(), Watchdog.Token));
        var buffer = new byte[13];
        for (var read = 0; read < buffer.Length;)
            read += await Watchdog.Guard(server.ReceiveAsync(buffer.AsMemory(read), Watchdog.Token));
        Assert.Equal("still serving"u8.ToArray(), buffer);
    }

    [Fact]
    public async Task RandomHandshakes_EachRefusedOrClosed_ListenerServes()
    {
        var count = Sizes.Pick(1_000, 100_000);
        var random = new Random(5);
        var answers = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[random.Next(1, 80)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
                bytes[^1] = (byte)'\n';
            var reply = await RawExchangeAsync(bytes);
            // A request line is refused with an errno (EINVAL, EPROTONOSUPPORT, ECONNRESET); an unfinished one is closed.
            Assert.True(reply.Length == 0 || (reply.Length == 7 && reply.StartsWith("ER ", StringComparison.Ordinal)), $"reply '{reply}'");
            var key = reply.Length == 0 ? "closed" : reply.TrimEnd();
            answers[key] = answers.GetValueOrDefault(key) + 1;
        }
        await AssertServesAsync();
        TestContext.Current.TestOutputHelper?.WriteLine($"{count} random handshakes: " + string.Join(", ", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} x{a.Value}")));
    }

    [Fact]
    public async Task TruncatedHandshakes_Closed_ListenerServes()
    {
        var request = Encoding.ASCII.GetBytes($"VMCI1 2 1234 5 {Port}\n");
        for (var cut = 0; cut < request.Length - 1; cut++)
            Assert.Equal("", await RawExchangeAsync(request[..cut]));
        await AssertServesAsync();
    }

    [Fact]
    public async Task OversizedRequest_EINVAL_ListenerServes()
    {
        Assert.Equal("ER 022\n", await RawExchangeAsync(Encoding.ASCII.GetBytes("VMCI1 " + new string('9', 200))));
        Assert.Equal("ER 022\n", await RawExchangeAsync(Encoding.ASCII.GetBytes($"VMCI1 2 1234 5 {Port}\n" + "trailing")));
        await AssertServesAsync();
    }

    [Fact]
    public async Task OversizedFrame_16MiB_DeliveredIntact()
    {
        var accept = _listener.AcceptAsync(Watchdog.Token);
        using var client = await Watchdog.Guard(_host.ConnectAsync(new VsockAddress(5, Port), null, Watchdog.Token));
        using var server = await Watchdog.Guard(accept);
        var frame = Framing.Make(7, 16 << 20, new Random(7));
        var send = client.SendAsync(frame, Watchdog.Token).AsTask();
        var received = new byte[frame.Length];
        for (var read = 0; read < received.Length;)
            read += await Watchdog.Guard(server.ReceiveAsync(received.AsMemory(read), Watchdog.Token));
        await Watchdog.Guard(send);
        Assert.Equal(7ul, Framing.Check(received));
    }

    [Fact]
    public async Task SocketFileDeleted_ConnectECONNRESET_LiveConnectionServes_PortRebinds()
    {
        var accept = _listener.AcceptAsync(Watchdog.Token);
        using var client = await Watchdog.Guard(_host.ConnectAsync(new VsockAddress(5, Port), null, Watchdog.Token));
        using var server = await Watchdog.Guard(accept);

        File.Delete(Fabric.SocketPath(5, Port));

        var e = await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(_host.ConnectAsync(new VsockAddress(5, Port), null, Watchdog.Token)));
        Assert.Contains("nobody listens", e.Message, StringComparison.Ordinal);
        await Watchdog.Guard(client.SendAsync("live"u8.ToArray(), Watchdog.Token));
        var buffer = new byte[4];
        for (var read = 0; read < 4;)
            read += await Watchdog.Guard(server.ReceiveAsync(buffer.AsMemory(read), Watchdog.Token));
        Assert.Equal("live"u8.ToArray(), buffer);
        // The port's entry is gone, so the port can be bound again.
        using var again = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, Port));
        Assert.Equal(Port, again.LocalAddress.Port);
    }
}
