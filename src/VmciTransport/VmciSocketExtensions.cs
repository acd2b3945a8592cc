using System.Globalization;
using System.Net.Sockets;
using NetMQ;
using Vmci.Transport.Internal;

namespace Vmci.Transport;

/// <summary>
/// <c>vmci://</c> endpoints for any <see cref="NetMQSocket"/>: <see cref="VmciBind"/>, <see cref="VmciConnect"/>,
/// <see cref="VmciUnbind"/>, <see cref="VmciDisconnect"/>, <see cref="VmciLastEndpoint"/> and
/// <see cref="VmciOptions"/>. An endpoint of any other scheme is passed to NetMQ's own method unchanged, so
/// these can replace <c>Bind</c>/<c>Connect</c>/... everywhere. Errors are the exceptions NetMQ throws for the
/// same errno (<see cref="AddressAlreadyInUseException"/>, <see cref="EndpointNotFoundException"/>,
/// <see cref="ProtocolNotSupportedException"/>, <see cref="InvalidException"/>, ...), with the
/// <see cref="VmciException"/> (errno, operation, endpoint) as inner exception. Like every NetMQ socket method,
/// call them from the thread that owns the socket.
/// </summary>
public static class VmciSocketExtensions
{
    private const string HiddenBind = "tcp://127.0.0.1:0";

    /// <summary>Binds <paramref name="endpoint"/>; for vmci, LAST_ENDPOINT then reports the bound address (port <c>*</c> filled in, <c>@</c> as its number).</summary>
    /// <exception cref="AddressAlreadyInUseException">EADDRINUSE.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">EADDRNOTAVAIL, EACCES, ENODEV (error code AddressNotAvailable/AccessDenied).</exception>
    public static void VmciBind(this NetMQSocket socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Bind))
        {
            socket.Bind(endpoint);
            return;
        }
        var state = SocketState.Of(socket);
        var listener = Translate(() =>
        {
            var network = state.Options.Network;
            var address = VmciEndpoint.Parse(endpoint).Resolve(network.GetLocalCid);
            return network.Listen(address, state.Options.Snapshot(), socket.Options.Backlog);
        });
        BindRelay? relay = null;
        try
        {
            socket.Bind(HiddenBind);
            var tcp = socket.Options.LastEndpoint!;
            relay = new BindRelay(listener, Port(tcp));
            var resolved = relay.LocalAddress.ToString();
            state.Linger = socket.Options.Linger;
            state.AddBind(resolved, relay);
            relay.Start();
            state.Last = (tcp, resolved);
        }
        catch
        {
            if (relay is null)
                listener.Dispose();
            else
                relay.Dispose();
            throw;
        }
    }

    /// <summary>Unbinds an endpoint; for vmci only the exact string LAST_ENDPOINT reported after the bind matches.</summary>
    /// <exception cref="EndpointNotFoundException">ENOENT: nothing is bound under that string (for example <c>vmci://*:*</c>).</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciUnbind(this NetMQSocket socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Unbind))
        {
            socket.Unbind(endpoint);
            return;
        }
        Translate(() => VmciEndpoint.Parse(endpoint));
        var relay = SocketState.Find(socket)?.RemoveBind(endpoint)
            ?? throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.ENOENT, VmciOperation.Unbind, endpoint,
                "nothing is bound under that string; unbind takes the endpoint LAST_ENDPOINT reported after the bind"));
        try
        {
            socket.Unbind(TcpEndpoint(relay.TcpPort));
        }
        finally
        {
            relay.Dispose();
        }
    }

    /// <summary>
    /// Connects to an endpoint. For vmci the address is checked now (EINVAL, ENODEV for <c>@</c> without a local
    /// CID) and the connection is made in the background, retried on the socket's ReconnectInterval /
    /// ReconnectIntervalMax; LAST_ENDPOINT reports the canonical address.
    /// </summary>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">ENODEV (error code AddressNotAvailable).</exception>
    public static void VmciConnect(this NetMQSocket socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Connect))
        {
            socket.Connect(endpoint);
            return;
        }
        var state = SocketState.Of(socket);
        var policy = new ReconnectPolicy(socket.Options.ReconnectInterval, socket.Options.ReconnectIntervalMax);
        var relay = Translate(() =>
        {
            var network = state.Options.Network;
            var address = VmciEndpoint.Parse(endpoint).Resolve(network.GetLocalCid);
            try
            {
                return new ConnectRelay(network, address, state.Options.Snapshot(), policy);
            }
            catch (SocketException e)
            {
                throw VmciError.From(e, VmciOperation.Connect, endpoint, "the loopback relay listener could not be opened");
            }
        });
        try
        {
            relay.Start();
            var tcp = TcpEndpoint(relay.Port);
            socket.Connect(tcp);
            state.Linger = socket.Options.Linger;
            state.AddConnect(endpoint, relay);
            state.Last = (tcp, relay.Remote.ToString());
        }
        catch
        {
            relay.Dispose();
            throw;
        }
    }

    /// <summary>Disconnects; for vmci by the ORIGINAL string given to <see cref="VmciConnect"/>.</summary>
    /// <exception cref="EndpointNotFoundException">ENOENT: nothing was connected under that string.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciDisconnect(this NetMQSocket socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Disconnect))
        {
            socket.Disconnect(endpoint);
            return;
        }
        Translate(() => VmciEndpoint.Parse(endpoint));
        var relays = SocketState.Find(socket)?.RemoveConnects(endpoint) ?? [];
        if (relays.Count == 0)
            throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.ENOENT, VmciOperation.Disconnect, endpoint,
                "nothing is connected under that string; disconnect takes the string given to connect"));
        try
        {
            foreach (var relay in relays)
                socket.Disconnect(TcpEndpoint(relay.Port));
        }
        finally
        {
            foreach (var relay in relays)
                relay.Dispose();
        }
    }

    /// <summary>
    /// LAST_ENDPOINT: the vmci endpoint when the socket's last bind or connect was a vmci one, otherwise NetMQ's
    /// own <c>socket.Options.LastEndpoint</c> (null or empty before any bind or connect).
    /// </summary>
    public static string? VmciLastEndpoint(this NetMQSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var netmq = socket.Options.LastEndpoint;
        return SocketState.Find(socket)?.Last is { } last && last.Tcp == netmq ? last.Vmci : netmq;
    }

    /// <summary>The socket's vmci options (ZMQ_VMCI_*), and the backend it uses.</summary>
    public static VmciSocketOptions VmciOptions(this NetMQSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return SocketState.Of(socket).Options;
    }

    /// <summary>
    /// True for a vmci endpoint. A string without <c>://</c> or with an empty scheme is EINVAL here (SPEC §1): NetMQ 4.0.4.5's own parser would crash on
    /// it with an <see cref="ArgumentOutOfRangeException"/> from Substring.
    /// </summary>
    private static bool IsVmci(string endpoint, VmciOperation operation)
    {
        if (VmciEndpoint.HasVmciScheme(endpoint))
            return true;
        if (endpoint.IndexOf("://", StringComparison.Ordinal) <= 0)
            throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.EINVAL, operation, endpoint, "an endpoint is <scheme>://<address> with a non-empty scheme"));
        return false;
    }

    private static string TcpEndpoint(int port) => "tcp://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    private static int Port(string tcpEndpoint) =>
        int.Parse(tcpEndpoint.AsSpan(tcpEndpoint.LastIndexOf(':') + 1), NumberStyles.None, CultureInfo.InvariantCulture);

    private static T Translate<T>(Func<T> action) => NetMQErrors.Translate(action);
}
