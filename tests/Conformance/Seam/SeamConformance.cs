using Vmci;
using Vmci.TestKit;

namespace Conformance.Seam;

/// <summary>
/// THE seam conformance suite (SPEC §5, §7): what every <see cref="IVsockNetwork"/> must do, asserted exactly as the
/// Linux kernel does it (observed in the QEMU guest, see docs/kernel-backend.md). Written once; each backend is a tiny
/// sealed leaf that implements <see cref="CreateNetwork"/> and, where it differs, a capability property.
/// </summary>
public abstract partial class SeamConformance : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private IVsockNetwork? _network;

    /// <summary>The network under test. Called once per test; a leaf that cannot run here calls Assert.Skip.</summary>
    protected abstract IVsockNetwork CreateNetwork();

    /// <summary>True when binding a port ≤ 1023 succeeds (root / CAP_NET_BIND_SERVICE); false: EACCES.</summary>
    protected virtual bool CanBindReservedPorts => false;

    /// <summary>The CID to connect to in order to reach this network's own listeners. Defaults to the local CID.</summary>
    protected virtual uint LoopbackCid => Network.GetLocalCid();

    /// <summary>The network of the current test.</summary>
    protected IVsockNetwork Network => _network ??= CreateNetwork();

    /// <summary>A CID that is neither any nor local: bind must refuse it.</summary>
    protected uint OtherCid => Network.GetLocalCid() + 100;

    /// <summary>Listens and disposes the listener at the end of the test.</summary>
    protected IVsockListener Listen(VsockAddress address, VsockOptions? options = null) =>
        Own(Network.Listen(address, options));

    /// <summary>Listens on cid any, port any.</summary>
    protected IVsockListener ListenAny(VsockOptions? options = null) => Listen(new VsockAddress(VmciCid.Any, VmciPort.Any), options);

    /// <summary>Disposes <paramref name="item"/> at the end of the test.</summary>
    protected T Own<T>(T item)
        where T : IDisposable
    {
        lock (_owned)
            _owned.Add(item);
        return item;
    }

    /// <summary>Connects a client to <paramref name="listener"/> and accepts it: (client, server).</summary>
    protected async Task<(IVsockConnection Client, IVsockConnection Server)> ConnectPairAsync(IVsockListener listener, CancellationToken ct, VsockOptions? options = null)
    {
        var accept = listener.AcceptAsync(ct).AsTask();
        var client = Own(await Network.ConnectAsync(new VsockAddress(LoopbackCid, listener.LocalAddress.Port), options, ct));
        var server = Own(await accept.WaitAsync(ct));
        return (client, server);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_owned)
        {
            foreach (var item in Enumerable.Reverse(_owned))
                item.Dispose();
            _owned.Clear();
        }
        GC.SuppressFinalize(this);
    }

    [Fact(DisplayName = "§5 local CID: a real context, never any")]
    [Trait("Spec", "§5")]
    public void GetLocalCid_Always_ReturnsARealCid()
    {
        var cid = Network.GetLocalCid();
        Assert.NotEqual(VmciCid.Any, cid);
        Assert.NotEqual(VmciCid.Hypervisor, cid);
    }

    [Fact(DisplayName = "§5 bind any:any → cid stays any, ephemeral port > 1023")]
    [Trait("Spec", "§5")]
    public void Listen_AnyCidAnyPort_KeepsAnyCidAndAssignsEphemeralPort()
    {
        var listener = ListenAny();
        Assert.Equal(VmciCid.Any, listener.LocalAddress.Cid);
        Assert.InRange(listener.LocalAddress.Port, VmciPort.LastReserved + 1, VmciPort.Any - 1);
    }

    [Fact(DisplayName = "§5 bind local cid → getsockname reports the local cid")]
    [Trait("Spec", "§5")]
    public void Listen_LocalCid_ReportsLocalCid()
    {
        var cid = Network.GetLocalCid();
        var listener = Listen(new VsockAddress(cid, VmciPort.Any));
        Assert.Equal(cid, listener.LocalAddress.Cid);
        Assert.True(listener.LocalAddress.Port > VmciPort.LastReserved);
    }

    [Fact(DisplayName = "§5 bind a cid that is not local → EADDRNOTAVAIL")]
    [Trait("Spec", "§5")]
    public void Listen_OtherCid_ThrowsEADDRNOTAVAIL() =>
        VmciAssert.Throws(Errno.EADDRNOTAVAIL, () => Listen(new VsockAddress(OtherCid, VmciPort.Any)));

    [Fact(DisplayName = "§5 bind a port twice → EADDRINUSE")]
    [Trait("Spec", "§5")]
    public void Listen_PortInUse_ThrowsEADDRINUSE()
    {
        var first = ListenAny();
        VmciAssert.Throws(Errno.EADDRINUSE, () => Listen(new VsockAddress(VmciCid.Any, first.LocalAddress.Port)));
    }

    [Fact(DisplayName = "§5 bind any then the local cid on the same port → EADDRINUSE")]
    [Trait("Spec", "§5")]
    public void Listen_AnyThenLocalCidSamePort_ThrowsEADDRINUSE()
    {
        var first = ListenAny();
        VmciAssert.Throws(Errno.EADDRINUSE, () => Listen(new VsockAddress(Network.GetLocalCid(), first.LocalAddress.Port)));
    }

    [Fact(DisplayName = "§5 bind the local cid then any on the same port → EADDRINUSE")]
    [Trait("Spec", "§5")]
    public void Listen_LocalCidThenAnySamePort_ThrowsEADDRINUSE()
    {
        var first = Listen(new VsockAddress(Network.GetLocalCid(), VmciPort.Any));
        VmciAssert.Throws(Errno.EADDRINUSE, () => Listen(new VsockAddress(VmciCid.Any, first.LocalAddress.Port)));
    }

    [Fact(DisplayName = "§5 ephemeral ports: > 1023 and distinct")]
    [Trait("Spec", "§5")]
    public void Listen_EphemeralPorts_AreDistinctAndUnreserved()
    {
        var ports = Enumerable.Range(0, 8).Select(_ => ListenAny().LocalAddress.Port).ToList();
        Assert.All(ports, p => Assert.True(p is > VmciPort.LastReserved and < VmciPort.Any, $"port {p}"));
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact(DisplayName = "§5 bind a port ≤ 1023: allowed with CAP_NET_BIND_SERVICE, else EACCES")]
    [Trait("Spec", "§5")]
    public void Listen_ReservedPort_FollowsPrivilege()
    {
        if (!CanBindReservedPorts)
        {
            VmciAssert.Throws(Errno.EACCES, () => Listen(new VsockAddress(VmciCid.Any, 1000)));
            return;
        }
        // Privileged: the first reserved port nobody else holds binds and is reported as bound.
        for (var port = 1000u; port <= VmciPort.LastReserved; port++)
        {
            try
            {
                Assert.Equal(port, Listen(new VsockAddress(VmciCid.Any, port)).LocalAddress.Port);
                return;
            }
            catch (VmciException e) when (e.Errno == Errno.EADDRINUSE)
            {
            }
        }
        Assert.Fail("every port 1000..1023 is in use");
    }

    [Fact(DisplayName = "§5 dispose a listener → its port is free again")]
    [Trait("Spec", "§5")]
    public void Listen_AfterListenerDisposed_PortIsReusable()
    {
        var first = Network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = first.LocalAddress.Port;
        first.Dispose();
        Assert.Equal(port, Listen(new VsockAddress(VmciCid.Any, port)).LocalAddress.Port);
    }

    [Fact(DisplayName = "§5 dispose a listener while an accept starts → its port is free when dispose returns")]
    [Trait("Spec", "§5")]
    public async Task Listen_ListenerDisposedDuringAccept_PortIsFreeOnReturn()
    {
        // An accept that is just starting (or just woke) holds the descriptor; dispose must not return before it lets
        // go, or the kernel still has the port bound when the caller binds it again. Many rounds: the window is short.
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        for (var round = 0; round < 200; round++)
        {
            var listener = Network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var port = listener.LocalAddress.Port;
            var accept = Task.Run(() => listener.AcceptAsync(watchdog.Token).AsTask(), watchdog.Token);
            if (round % 2 == 1)
                await Task.Yield();
            listener.Dispose();
            Network.Listen(new VsockAddress(VmciCid.Any, port)).Dispose();
            await VmciAssert.ThrowsAsync(Errno.EBADF, () => watchdog.Guard(accept));
        }
    }

    [Fact(DisplayName = "§5 dispose a listener → a pending accept fails with EBADF")]
    [Trait("Spec", "§5")]
    public async Task Accept_ListenerDisposed_FailsWithEBADF()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var listener = Network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var pending = listener.AcceptAsync(watchdog.Token).AsTask();
        listener.Dispose();
        await VmciAssert.ThrowsAsync(Errno.EBADF, () => watchdog.Guard(pending));
        await VmciAssert.ThrowsAsync(Errno.EBADF, () => listener.AcceptAsync(watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 cancel a pending accept → ECANCELED")]
    [Trait("Spec", "§5")]
    public async Task Accept_Cancelled_FailsWithECANCELED()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(watchdog.Token);
        var pending = ListenAny().AcceptAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await VmciAssert.ThrowsAsync(Errno.ECANCELED, () => watchdog.Guard(pending));
    }

    [Fact(DisplayName = "§5 connect where nobody listens → ECONNRESET")]
    [Trait("Spec", "§5")]
    public async Task Connect_NoListener_ThrowsECONNRESET()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var probe = Network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = probe.LocalAddress.Port;
        probe.Dispose();
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET,
            () => Network.ConnectAsync(new VsockAddress(LoopbackCid, port), null, watchdog.Token).AsTask());
    }

    [Fact(DisplayName = "§5 connect with a cancelled token → ECANCELED")]
    [Trait("Spec", "§5")]
    public async Task Connect_CancelledToken_ThrowsECANCELED()
    {
        var listener = ListenAny();
        await VmciAssert.ThrowsAsync(Errno.ECANCELED,
            () => Network.ConnectAsync(new VsockAddress(LoopbackCid, listener.LocalAddress.Port), null, new CancellationToken(true)).AsTask());
    }

    [Fact(DisplayName = "§5 accept reports the peer's cid and port; the connecting side's getsockname keeps cid any")]
    [Trait("Spec", "§5")]
    public async Task Accept_Connection_ReportsBothAddresses()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var listener = ListenAny();
        var (client, server) = await ConnectPairAsync(listener, watchdog.Token);
        var seen = $"listener {listener.LocalAddress}, client {client.LocalAddress} -> {client.RemoteAddress}, server {server.LocalAddress} <- {server.RemoteAddress}";
        Assert.True(new VsockAddress(LoopbackCid, listener.LocalAddress.Port) == client.RemoteAddress, seen);
        Assert.True(client.RemoteAddress == server.LocalAddress, seen);
        Assert.True(new VsockAddress(LoopbackCid, client.LocalAddress.Port) == server.RemoteAddress, seen);
        // The connecting socket was auto-bound to cid any: its getsockname keeps any, like a listener bound to any.
        Assert.True(VmciCid.Any == client.LocalAddress.Cid, seen);
        Assert.True(client.LocalAddress.Port is > VmciPort.LastReserved and < VmciPort.Any, seen);
        Assert.NotEqual(listener.LocalAddress.Port, client.LocalAddress.Port);
    }
}
