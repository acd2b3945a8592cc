using NetMQ;
using Vmci.Transport.Internal;

namespace Vmci.Transport;

/// <summary>
/// The vmci methods of <see cref="VmciSocketExtensions"/> for NetMQ's thread-safe socket types (SERVER, CLIENT, RADIO,
/// DISH, SCATTER, GATHER), which derive from <see cref="ThreadSafeSocket"/>, not <see cref="NetMQSocket"/>: the same
/// rules, errors and options. Unlike the others they may be called from any thread.
/// </summary>
public static class VmciThreadSafeSocketExtensions
{
    /// <summary>Binds <paramref name="endpoint"/>; see <see cref="VmciSocketExtensions.VmciBind"/>.</summary>
    /// <exception cref="AddressAlreadyInUseException">EADDRINUSE.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">EADDRNOTAVAIL, EACCES, ENODEV.</exception>
    public static void VmciBind(this ThreadSafeSocket socket, string endpoint) => EndpointOperations.Bind(Facade(socket), endpoint);

    /// <summary>Unbinds by the exact LAST_ENDPOINT string; see <see cref="VmciSocketExtensions.VmciUnbind"/>.</summary>
    /// <exception cref="EndpointNotFoundException">ENOENT.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciUnbind(this ThreadSafeSocket socket, string endpoint) => EndpointOperations.Unbind(Facade(socket), endpoint);

    /// <summary>Connects in the background; see <see cref="VmciSocketExtensions.VmciConnect"/>.</summary>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    /// <exception cref="NetMQException">ENODEV.</exception>
    public static void VmciConnect(this ThreadSafeSocket socket, string endpoint) => EndpointOperations.Connect(Facade(socket), endpoint);

    /// <summary>Disconnects by the original string; see <see cref="VmciSocketExtensions.VmciDisconnect"/>.</summary>
    /// <exception cref="EndpointNotFoundException">ENOENT.</exception>
    /// <exception cref="InvalidException">EINVAL: a malformed endpoint.</exception>
    public static void VmciDisconnect(this ThreadSafeSocket socket, string endpoint) => EndpointOperations.Disconnect(Facade(socket), endpoint);

    /// <summary>LAST_ENDPOINT; see <see cref="VmciSocketExtensions.VmciLastEndpoint"/>.</summary>
    public static string? VmciLastEndpoint(this ThreadSafeSocket socket) => EndpointOperations.LastEndpoint(Facade(socket));

    /// <summary>The socket's vmci options; see <see cref="VmciSocketExtensions.VmciOptions"/>.</summary>
    public static VmciSocketOptions VmciOptions(this ThreadSafeSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return SocketState.Of(socket).Options;
    }

    private static SocketFacade Facade(ThreadSafeSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return new SocketFacade(socket);
    }
}
