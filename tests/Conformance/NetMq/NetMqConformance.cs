using System.Globalization;
using Conformance.Support;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>
/// THE NetMQ conformance suite (SPEC §1–§4): zmq_vmci(7) as a NetMQ program sees it through
/// <see cref="VmciSocketExtensions"/>. Written once; each backend is a tiny sealed leaf that implements
/// <see cref="CreateNetwork"/> and, where the backend differs, a capability property. Every socket is disposed with
/// linger 0; every receive has a timeout; ports are always chosen by the system (<c>*</c>) and read back.
/// </summary>
public abstract partial class NetMqConformance : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private RecordingNetwork? _network;
    private Watchdog? _watchdog;

    /// <summary>The backend under test. Called once per test; a leaf that cannot run here calls Assert.Skip.</summary>
    protected abstract IVsockNetwork CreateNetwork();

    /// <summary>
    /// The CID <c>@</c> resolves to, and the CID a client connects to in order to reach this process's own binds:
    /// 1 on a kernel with only vsock_loopback, the joined CID on the simulator.
    /// </summary>
    protected abstract uint LocalCid { get; }

    /// <summary>
    /// The CID a client connects to in order to reach this process's own binds. Defaults to <see cref="LocalCid"/>; a
    /// virtio-vsock guest without vsock_loopback cannot reach its own CID (ENODEV) and uses CID 1 through its device.
    /// </summary>
    protected virtual uint LoopbackCid => LocalCid;

    /// <summary>True when binding a port ≤ 1023 succeeds (root / CAP_NET_BIND_SERVICE); false: EACCES.</summary>
    protected virtual bool CanBindReservedPorts => false;

    /// <summary>The backend of the current test, wrapped so that tests can look at the seam.</summary>
    protected RecordingNetwork Network => _network ??= new RecordingNetwork(CreateNetwork());

    /// <summary>A CID that is neither any nor local: bind must refuse it.</summary>
    protected uint OtherCid => LocalCid + 100;

    /// <summary>Creates a socket of <paramref name="type"/> on <see cref="Network"/> (or <paramref name="network"/>).</summary>
    protected NetMQSocket Socket(string type, IVsockNetwork? network = null) => Socket(Create(type), network);

    /// <summary>Puts <paramref name="socket"/> on <see cref="Network"/>, linger 0, disposed at the end of the test.</summary>
    protected T Socket<T>(T socket, IVsockNetwork? network = null)
        where T : NetMQSocket
    {
        Own(socket);
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(20);
        socket.VmciOptions().Network = network ?? Network;
        return socket;
    }

    /// <summary>Disposes <paramref name="item"/> at the end of the test.</summary>
    protected T Own<T>(T item)
        where T : IDisposable
    {
        lock (_owned)
            _owned.Add(item);
        return item;
    }

    /// <summary>Binds <paramref name="socket"/> to <c>vmci://*:*</c> and returns LAST_ENDPOINT.</summary>
    protected static string BindAny(NetMQSocket socket)
    {
        socket.VmciBind("vmci://*:*");
        return socket.VmciLastEndpoint()!;
    }

    /// <summary>The port of a canonical endpoint.</summary>
    protected static uint PortOf(string endpoint) => uint.Parse(endpoint.AsSpan(endpoint.LastIndexOf(':') + 1), CultureInfo.InvariantCulture);

    /// <summary>The endpoint a client connects to in order to reach <paramref name="bound"/> (a LAST_ENDPOINT).</summary>
    protected string Target(string bound) => Endpoint(LoopbackCid, PortOf(bound));

    /// <summary><c>vmci://cid:port</c>.</summary>
    protected static string Endpoint(uint cid, uint port) => string.Create(CultureInfo.InvariantCulture, $"vmci://{cid}:{port}");

    /// <summary>A port that was free a moment ago (bound with <c>*</c>, then unbound), for tests that need a number first.</summary>
    protected uint FreePort()
    {
        using var probe = new PairSocket();
        probe.Options.Linger = TimeSpan.Zero;
        probe.VmciOptions().Network = Network;
        var bound = BindAny(probe);
        probe.VmciUnbind(bound);
        return PortOf(bound);
    }

    /// <summary>Binds <paramref name="server"/> to <c>*</c>, connects <paramref name="client"/> to it; returns LAST_ENDPOINT of the bind.</summary>
    protected string Link(NetMQSocket server, NetMQSocket client)
    {
        var bound = BindAny(server);
        client.VmciConnect(Target(bound));
        return bound;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (for seam counters, which have no event), failing at the test's watchdog.</summary>
    protected void WaitUntil(Func<bool> condition, string what) =>
        (_watchdog ??= Own(Watchdog.Start(TestContext.Current.CancellationToken))).Until(condition, what);

    /// <summary>A NetMQ socket by name.</summary>
    protected static NetMQSocket Create(string type) => SocketTypes.Create(type);

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
}
