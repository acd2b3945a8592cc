using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Issue #16: policy was enforced by connectors only — a raw connector claiming guest CID 3 reached guest 5 under the
/// vmware topology, through a refuse fault, and with a claimed source CID it did not hold. Here a raw Unix connector
/// (the kit's <see cref="TestFabric.ConnectRaw"/>) speaks the handshake itself, and the LISTENER refuses each case with
/// the errno of the rule: EPERM (1) for a CID the connector does not hold (loopback included: only the listener's own
/// machine may claim it), ENETUNREACH (101) for the topology, ECONNRESET (104) for the refuse fault; a partition holds
/// the request until it heals.
/// </summary>
public sealed class ListenerPolicyTests : FabricTestBase
{
    private readonly IVsockListener _listener;

    public ListenerPolicyTests()
        : base(new TestFabric(), Sizes.StartWatchdog())
    {
        _listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
    }

    private uint Port => _listener.LocalAddress.Port;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _listener.Dispose();
        base.Dispose(disposing);
    }

    [Theory]
    [InlineData(null, 3u, "ER 001")]    // unbound: proves no CID
    [InlineData(3u, 4u, "ER 001")]      // bound in machine 3, claims 4
    [InlineData(3u, 2u, "ER 001")]      // bound in machine 3, claims the host
    [InlineData(3u, 1u, "ER 001")]      // loopback: it would have to be machine 5 itself
    [InlineData(3u, 3u, "OK 000")]      // what it holds
    public async Task RawConnector_ClaimedSource_CheckedByTheListener(uint? boundIn, uint claimed, string expected)
    {
        using var raw = Fabric.ConnectRaw(5, Port, boundIn);

        Assert.Equal(expected, await HandshakeAsync(raw, claimed));
        if (expected == "OK 000")
        {
            using var accepted = await Watchdog.Guard(_listener.AcceptAsync(Watchdog.Token));
            Assert.Equal(new VsockAddress(claimed, 1000), accepted.RemoteAddress);
        }
    }

    [Fact]
    public async Task RawConnector_GuestToGuestUnderVmware_RefusedENETUNREACH()
    {
        Fabric.Fabric.Topology = SimTopology.Vmware;
        using var guest = Fabric.ConnectRaw(5, Port, boundIn: 3);
        using var host = Fabric.ConnectRaw(5, Port, boundIn: 2);

        Assert.Equal("ER 101", await HandshakeAsync(guest, 3));
        Assert.Equal("OK 000", await HandshakeAsync(host, 2));
    }

    [Fact]
    public async Task RawConnector_RefuseFault_RefusedECONNRESET()
    {
        Fabric.Faults.Add(new SimFault(SimFaultKind.Refuse, 5));
        using var raw = Fabric.ConnectRaw(5, Port, boundIn: 3);

        Assert.Equal("ER 104", await HandshakeAsync(raw, 3));
    }

    /// <summary>
    /// Partitioned: the listener holds the request (lost on the wire) while it serves others; when the partition heals
    /// the request is answered and accepted.
    /// </summary>
    [Fact]
    public async Task RawConnector_Partitioned_HeldUntilHealed()
    {
        Fabric.Faults.Add(new SimFault(SimFaultKind.Partition, 3) { Peer = 5 });
        using var raw = Fabric.ConnectRaw(5, Port, boundIn: 3);
        await Watchdog.Guard(raw.SendAsync(Request(3), SocketFlags.None, Watchdog.Token));

        // The listener answers others meanwhile (the host is not partitioned); the held request has no answer.
        var accept = _listener.AcceptAsync(Watchdog.Token);
        using (await Watchdog.Guard(Fabric.Host.ConnectAsync(new VsockAddress(5, Port), null, Watchdog.Token)))
        using (var other = await Watchdog.Guard(accept))
            Assert.Equal(VmciCid.Host, other.RemoteAddress.Cid);
        Assert.Equal(0, raw.Available);

        Fabric.Faults.Clear();

        Assert.Equal("OK 000", await ReplyAsync(raw));
        using var accepted = await Watchdog.Guard(_listener.AcceptAsync(Watchdog.Token));
        Assert.Equal(3u, accepted.RemoteAddress.Cid);
    }

    private byte[] Request(uint claimed) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"VMCI1 {claimed} 1000 5 {Port}\n"));

    private async Task<string> HandshakeAsync(Socket raw, uint claimed)
    {
        await Watchdog.Guard(raw.SendAsync(Request(claimed), SocketFlags.None, Watchdog.Token));
        return await ReplyAsync(raw);
    }

    /// <summary>The listener's 7-byte answer (<c>OK 000</c>, <c>ER nnn</c>) without its newline, or "closed".</summary>
    private async Task<string> ReplyAsync(Socket raw)
    {
        var reply = new byte[7];
        var length = 0;
        int n;
        while (length < reply.Length && (n = await Watchdog.Guard(raw.ReceiveAsync(reply.AsMemory(length), SocketFlags.None, Watchdog.Token))) > 0)
            length += n;
        return length == 0 ? "closed" : Encoding.ASCII.GetString(reply, 0, length).TrimEnd('\n');
    }
}
