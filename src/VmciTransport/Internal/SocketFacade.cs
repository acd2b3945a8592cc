using NetMQ;
using NetMQ.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// What the transport needs of a NetMQ socket, for both families: <see cref="NetMQSocket"/> (REQ, PUB, ...) and
/// <see cref="ThreadSafeSocket"/> (SERVER, CLIENT, RADIO, DISH, SCATTER, GATHER), which share no base type in NetMQ.
/// Every member is public NetMQ API.
/// </summary>
internal sealed class SocketFacade
{
    private readonly NetMQSocket? _socket;
    private readonly ThreadSafeSocket? _threadSafe;

    public SocketFacade(NetMQSocket socket) => _socket = socket;

    public SocketFacade(ThreadSafeSocket socket) => _threadSafe = socket;

    /// <summary>The user's socket object (the key of its <see cref="SocketState"/>).</summary>
    public object Owner => (object?)_socket ?? _threadSafe!;

    /// <summary>True once the socket was disposed.</summary>
    public bool IsDisposed => _socket?.IsDisposed ?? _threadSafe!.IsDisposed;

    /// <summary>ZMQ_LINGER.</summary>
    public TimeSpan Linger => _socket?.Options.Linger ?? _threadSafe!.Options.Linger;

    /// <summary>ZMQ_RECONNECT_IVL (negative: no reconnect).</summary>
    public TimeSpan ReconnectInterval => _socket?.Options.ReconnectInterval ?? _threadSafe!.Options.ReconnectInterval;

    /// <summary>ZMQ_RECONNECT_IVL_MAX.</summary>
    public TimeSpan ReconnectIntervalMax => _socket?.Options.ReconnectIntervalMax ?? _threadSafe!.Options.ReconnectIntervalMax;

    /// <summary>ZMQ_BACKLOG.</summary>
    public int Backlog => _socket?.Options.Backlog ?? _threadSafe!.Options.Backlog;

    /// <summary>NetMQ's own LAST_ENDPOINT.</summary>
    public string? LastEndpoint => _socket is not null ? _socket.Options.LastEndpoint : _threadSafe!.Options.LastEndpoint;

    /// <summary>
    /// The types for which a second connect to a connected endpoint is a no-op (SPEC §8, libzmq's is_single_connect):
    /// "no valid use for multiple connects for SUB-PUB nor DEALER-ROUTER nor REQ-REP".
    /// </summary>
    public bool IsSingleConnect => _socket is DealerSocket or SubscriberSocket or PublisherSocket or RequestSocket;

    /// <summary>NetMQ's Bind.</summary>
    public void Bind(string endpoint)
    {
        if (_socket is not null)
            _socket.Bind(endpoint);
        else
            _threadSafe!.Bind(endpoint);
    }

    /// <summary>NetMQ's BindRandomPort (tcp).</summary>
    public int BindRandomPort(string endpoint) => _socket?.BindRandomPort(endpoint) ?? _threadSafe!.BindRandomPort(endpoint);

    /// <summary>NetMQ's Unbind.</summary>
    public void Unbind(string endpoint)
    {
        if (_socket is not null)
            _socket.Unbind(endpoint);
        else
            _threadSafe!.Unbind(endpoint);
    }

    /// <summary>NetMQ's Connect.</summary>
    public void Connect(string endpoint)
    {
        if (_socket is not null)
            _socket.Connect(endpoint);
        else
            _threadSafe!.Connect(endpoint);
    }

    /// <summary>NetMQ's Disconnect.</summary>
    public void Disconnect(string endpoint)
    {
        if (_socket is not null)
            _socket.Disconnect(endpoint);
        else
            _threadSafe!.Disconnect(endpoint);
    }

    /// <summary>Throws NetMQ's ObjectDisposedException when the socket is disposed, as its own methods do.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, Owner);
}
