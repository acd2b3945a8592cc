using Vmci.Transport.Internal.Direct;

namespace Vmci.Transport;

/// <summary>How vmci connections reach a NetMQ socket (docs/transport.md).</summary>
public enum VmciTransportMode
{
    /// <summary>
    /// NetMQ's own stream engine runs on each connection's socket (a Unix domain socket on the simulator, AF_VSOCK on the
    /// kernel); no TCP listener exists. The default (<c>VMCI_TRANSPORT_MODE=direct</c>).
    /// </summary>
    Direct,

    /// <summary>
    /// Each vmci endpoint has a hidden <c>tcp://127.0.0.1</c> NetMQ endpoint and every connection is paired with one
    /// loopback TCP connection, bytes pumped between them (<c>VMCI_TRANSPORT_MODE=relay</c>); also the fallback when direct
    /// mode is unavailable.
    /// </summary>
    Relay,
}

/// <summary>
/// The transport mode of this process: the one asked for (<see cref="RequestedMode"/>), whether direct mode works here
/// (its startup self-check of NetMQ's internals), the mode in use (<see cref="Mode"/>), and where the transport's log
/// lines go (<see cref="Log"/>).
/// </summary>
public static class VmciTransport
{
    private static readonly Lock Gate = new();
    private static readonly ModeResolver Resolver = new(() => NetMQInternals.Failure, line => Log(line));
    private static VmciTransportMode? s_requested;

    /// <summary>
    /// The mode new binds and connects ask for, unless a socket chooses its own (<see cref="VmciSocketOptions.TransportMode"/>).
    /// <remarks>Defaults to <c>VMCI_TRANSPORT_MODE</c> (<see cref="VmciSettings.TransportMode"/>), else <see cref="VmciTransportMode.Direct"/>.</remarks>
    /// </summary>
    /// <exception cref="VmciException">EINVAL when a <c>VMCI_*</c> variable is malformed.</exception>
    public static VmciTransportMode RequestedMode
    {
        get
        {
            lock (Gate)
                return s_requested ??= VmciSettings.FromEnvironment().TransportMode;
        }
        set
        {
            if (!Enum.IsDefined(value))
                throw VmciError.Create(Errno.EINVAL, VmciOperation.Configure, value.ToString(), "the transport mode is Direct or Relay");
            lock (Gate)
                s_requested = value;
        }
    }

    /// <summary>True when direct mode works in this process: every NetMQ and AsyncIO internal it needs was found, in the versions it was checked against.</summary>
    public static bool IsDirectModeAvailable => NetMQInternals.Instance is not null;

    /// <summary>Why direct mode is unavailable (the self-check's finding), or null when it is available.</summary>
    public static string? DirectModeUnavailableReason => NetMQInternals.Failure;

    /// <summary>The mode new binds and connects use: <see cref="RequestedMode"/>, or <see cref="VmciTransportMode.Relay"/> when direct mode is unavailable.</summary>
    public static VmciTransportMode Mode => Resolve(RequestedMode);

    /// <summary>
    /// Receives the transport's log lines — the one line saying that direct mode is unavailable and the relay is used, and
    /// reports of background failures. <remarks>Defaults to writing to standard error.</remarks>
    /// </summary>
    public static Action<string> Log
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            field = value;
        }
    } = line => Console.Error.WriteLine(line);

    /// <summary>The mode to use for <paramref name="requested"/>: direct falls back to the relay, once logged, when unavailable.</summary>
    internal static VmciTransportMode Resolve(VmciTransportMode requested) => Resolver.Resolve(requested);
}

/// <summary>The fallback rule and its one log line, in one place: direct mode when the self-check passed, else the relay.</summary>
/// <param name="failure">The self-check's finding (null: direct mode available).</param>
/// <param name="log">Where the one line goes.</param>
internal sealed class ModeResolver(Func<string?> failure, Action<string> log)
{
    private int _logged;

    public VmciTransportMode Resolve(VmciTransportMode requested)
    {
        if (requested != VmciTransportMode.Direct || failure() is not { } reason)
            return requested;
        if (Interlocked.Exchange(ref _logged, 1) == 0)
            log($"vmci: direct mode unavailable ({reason}); vmci endpoints use the relay (a hidden tcp://127.0.0.1 endpoint each)");
        return VmciTransportMode.Relay;
    }
}
