using NetMQ;
using Vmci.Transport.Internal;

namespace Vmci.Transport;

/// <summary>
/// <c>vmci://</c> endpoints for any <see cref="NetMQSocket"/>: <see cref="VmciBind"/>, <see cref="VmciConnect"/>,
/// <see cref="VmciUnbind"/>, <see cref="VmciDisconnect"/>, <see cref="VmciLastEndpoint"/> and
/// <see cref="VmciOptions"/> (<see cref="VmciThreadSafeSocketExtensions"/>: the same for the thread-safe socket types).
/// An endpoint of any other scheme is passed to NetMQ's own method unchanged, so these can replace
/// <c>Bind</c>/<c>Connect</c>/... everywhere. Errors are the exceptions NetMQ throws for the same errno
/// (<see cref="AddressAlreadyInUseException"/>, <see cref="EndpointNotFoundException"/>,
/// <see cref="ProtocolNotSupportedException"/>, <see cref="InvalidException"/>, ...), with the
/// <see cref="VmciException"/> (errno, operation, endpoint) as inner exception. Like every NetMQ socket method,
/// call them from the thread that owns the socket.
/// </summary>
public static class VmciSocketExtensions
{
    /// <summary>Binds <paramref name="endpoint"/>; for vmci, LAST_ENDPOINT then reports the bound address (port <c>*</c> filled in, <c>@</c> as its number).</summary>
    /// <exception cref="AddressAlreadyInUseException">EADDRINUSE.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">EADDRNOTAVAIL, EACCES, ENODEV (error code AddressNotAvailable/AccessDenied).</exception>
    public static void VmciBind(this NetMQSocket socket, string endpoint) => EndpointOperations.Bind(Facade(socket), endpoint);

    /// <summary>
    /// Unbinds an endpoint; for vmci only the exact string LAST_ENDPOINT reported after the bind matches. The connections
    /// the bind accepted are dropped, and the port is free when this returns.
    /// </summary>
    /// <exception cref="EndpointNotFoundException">ENOENT: nothing is bound under that string (for example <c>vmci://*:*</c>).</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciUnbind(this NetMQSocket socket, string endpoint) => EndpointOperations.Unbind(Facade(socket), endpoint);

    /// <summary>
    /// Connects to an endpoint. For vmci the address is checked now (EINVAL, ENODEV for <c>@</c> without a local
    /// CID) and the connection is made in the background, retried on the socket's ReconnectInterval /
    /// ReconnectIntervalMax; LAST_ENDPOINT reports the canonical address. A DEALER, SUB, PUB or REQ socket connects once
    /// per endpoint string: a second connect to the same string does nothing (SPEC §8).
    /// </summary>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">ENODEV (error code AddressNotAvailable).</exception>
    public static void VmciConnect(this NetMQSocket socket, string endpoint) => EndpointOperations.Connect(Facade(socket), endpoint);

    /// <summary>Disconnects; for vmci by the ORIGINAL string given to <see cref="VmciConnect"/> (every connect under it). What is still queued for it is dropped.</summary>
    /// <exception cref="EndpointNotFoundException">ENOENT: nothing was connected under that string.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciDisconnect(this NetMQSocket socket, string endpoint) => EndpointOperations.Disconnect(Facade(socket), endpoint);

    /// <summary>
    /// LAST_ENDPOINT: the vmci endpoint when the socket's last bind or connect was a vmci one, otherwise NetMQ's
    /// own <c>socket.Options.LastEndpoint</c> (null or empty before any bind or connect). In direct mode NetMQ's own value
    /// is the vmci endpoint too.
    /// </summary>
    public static string? VmciLastEndpoint(this NetMQSocket socket) => EndpointOperations.LastEndpoint(Facade(socket));

    /// <summary>The socket's vmci options (ZMQ_VMCI_*, limits, transport mode), and the backend it uses.</summary>
    public static VmciSocketOptions VmciOptions(this NetMQSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return SocketState.Of(socket).Options;
    }

    private static SocketFacade Facade(NetMQSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return new SocketFacade(socket);
    }
}
