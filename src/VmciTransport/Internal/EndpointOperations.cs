using Vmci.Transport.Internal.Direct;

namespace Vmci.Transport.Internal;

/// <summary>
/// The vmci bind/connect/unbind/disconnect logic behind both extension classes (<see cref="VmciSocketExtensions"/>,
/// <see cref="VmciThreadSafeSocketExtensions"/>), on the caller's thread: parse and resolve (errors at once), choose the
/// mode, make the endpoint (<see cref="DirectBind"/>/<see cref="DirectConnect"/> or <see cref="BindRelay"/>/
/// <see cref="ConnectRelay"/>), register it in the socket's <see cref="SocketState"/>.
/// </summary>
internal static class EndpointOperations
{
    private const string HiddenBind = "tcp://127.0.0.1";

    public static void Bind(SocketFacade socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Bind))
        {
            socket.Bind(endpoint);
            return;
        }
        socket.ThrowIfDisposed();
        // A socket disposed a moment ago may still hold the port: close its listeners now, so a rebind here succeeds.
        SocketState.Sweep();
        var state = SocketState.Of(socket.Owner);
        var options = state.Options;
        var mode = VmciTransport.Resolve(options.TransportMode);
        var listener = Translate(() =>
        {
            var network = options.Network;
            var address = VmciEndpoint.Parse(endpoint).Resolve(network.GetLocalCid);
            return network.Listen(address, options.Snapshot(), socket.Backlog);
        });
        var resolved = listener.LocalAddress.ToString();
        IBindEndpoint? bind = null;
        try
        {
            if (mode == VmciTransportMode.Direct)
            {
                bind = DirectBind.Open(NetMQInternals.Instance!, socket.Owner, listener, options.Limits());
            }
            else
            {
                var port = socket.BindRandomPort(HiddenBind);
                var relay = new BindRelay(listener, port, options.Limits(), IsRaw(socket), socket.Linger);
                bind = relay;
                relay.Start();
                state.Last = (relay.TcpEndpoint, resolved);
            }
            state.Linger = socket.Linger;
            state.AddBind(resolved, bind);
        }
        catch
        {
            if (bind is null)
                listener.Dispose();
            else
                bind.Close(socket);
            throw;
        }
    }

    public static void Unbind(SocketFacade socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Unbind))
        {
            socket.Unbind(endpoint);
            return;
        }
        socket.ThrowIfDisposed();
        Translate(() => VmciEndpoint.Parse(endpoint));
        var bind = SocketState.Find(socket.Owner)?.RemoveBind(endpoint)
            ?? throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.ENOENT, VmciOperation.Unbind, endpoint,
                "nothing is bound under that string; unbind takes the endpoint LAST_ENDPOINT reported after the bind"));
        bind.Close(socket);
    }

    public static void Connect(SocketFacade socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Connect))
        {
            socket.Connect(endpoint);
            return;
        }
        socket.ThrowIfDisposed();
        var state = SocketState.Of(socket.Owner);
        var options = state.Options;
        var (network, address) = Translate(() =>
        {
            var n = options.Network;
            return (n, VmciEndpoint.Parse(endpoint).Resolve(n.GetLocalCid));
        });
        // SPEC §8: DEALER, SUB, PUB and REQ connect once per endpoint string; a second connect is a no-op.
        if (socket.IsSingleConnect && state.FindConnects(endpoint).Length > 0)
            return;
        var policy = new ReconnectPolicy(socket.ReconnectInterval, socket.ReconnectIntervalMax);
        var mode = VmciTransport.Resolve(options.TransportMode);
        IConnectEndpoint connect;
        if (mode == VmciTransportMode.Direct)
        {
            connect = DirectConnect.Open(NetMQInternals.Instance!, socket.Owner, network, address, options.Snapshot(), policy, options.Limits());
        }
        else
        {
            var relay = Translate(() =>
            {
                try
                {
                    return new ConnectRelay(network, address, options.Snapshot(), policy, socket.Linger);
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    throw VmciError.From(e, VmciOperation.Connect, endpoint, "the loopback relay listener could not be opened");
                }
            });
            try
            {
                relay.Start();
                socket.Connect(relay.TcpEndpoint);
                state.Last = (relay.TcpEndpoint, address.ToString());
            }
            catch
            {
                relay.Dispose();
                throw;
            }
            connect = relay;
        }
        state.Linger = socket.Linger;
        state.AddConnect(endpoint, connect);
    }

    public static void Disconnect(SocketFacade socket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsVmci(endpoint, VmciOperation.Disconnect))
        {
            socket.Disconnect(endpoint);
            return;
        }
        socket.ThrowIfDisposed();
        Translate(() => VmciEndpoint.Parse(endpoint));
        var connects = SocketState.Find(socket.Owner)?.RemoveConnects(endpoint) ?? [];
        if (connects.Count == 0)
            throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.ENOENT, VmciOperation.Disconnect, endpoint,
                "nothing is connected under that string; disconnect takes the string given to connect"));
        List<Exception>? errors = null;
        foreach (var connect in connects)
        {
            try
            {
                connect.Close(socket);
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }
        if (errors is { Count: > 0 })
            throw errors[0];
    }

    /// <summary>LAST_ENDPOINT: NetMQ's own (set by direct mode to the vmci string), or the vmci string standing for a relay's hidden tcp endpoint.</summary>
    public static string? LastEndpoint(SocketFacade socket)
    {
        var netmq = socket.LastEndpoint;
        return SocketState.Find(socket.Owner)?.Last is { } last && last.Tcp == netmq ? last.Vmci : netmq;
    }

    /// <summary>
    /// True for a vmci endpoint. A string without <c>://</c> or with an empty scheme is EINVAL here (SPEC §1): NetMQ 4.0.4.5's own
    /// parser would crash on it with an <see cref="ArgumentOutOfRangeException"/> from Substring.
    /// </summary>
    private static bool IsVmci(string endpoint, VmciOperation operation)
    {
        if (VmciEndpoint.HasVmciScheme(endpoint))
            return true;
        if (endpoint.IndexOf("://", StringComparison.Ordinal) <= 0)
            throw NetMQErrors.ToNetMQ(VmciError.Create(Errno.EINVAL, operation, endpoint, "an endpoint is <scheme>://<address> with a non-empty scheme"));
        return false;
    }

    private static bool IsRaw(SocketFacade socket) => socket.Owner is NetMQ.Sockets.StreamSocket;

    private static T Translate<T>(Func<T> action) => NetMQErrors.Translate(action);
}
