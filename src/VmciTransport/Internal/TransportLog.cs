using Microsoft.Extensions.Logging;

namespace Vmci.Transport.Internal;

/// <summary>The transport's log events (category <c>Vmci.Transport</c>; off unless <see cref="VmciLogging.LoggerFactory"/> is set).</summary>
internal static partial class TransportLog
{
    public static readonly ILogger Logger = VmciLogging.CreateLogger("Vmci.Transport");

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "bound {Endpoint} ({Resolved}) in {Mode} mode")]
    public static partial void Bound(this ILogger logger, string endpoint, string resolved, VmciTransportMode mode);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "connecting to {Endpoint} in {Mode} mode")]
    public static partial void Connecting(this ILogger logger, string endpoint, VmciTransportMode mode);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "connect attempt {Attempt} to {Endpoint} failed: {Errno} ({Reason}); next attempt in {DelayMs} ms")]
    public static partial void AttemptFailed(this ILogger logger, string endpoint, int attempt, Errno errno, string reason, long delayMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "connect to {Endpoint} gave up after attempt {Attempt}: {Errno} ({Reason}); the reconnect interval is negative")]
    public static partial void GaveUp(this ILogger logger, string endpoint, int attempt, Errno errno, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "connected to {Endpoint} (attempt {Attempt})")]
    public static partial void Connected(this ILogger logger, string endpoint, int attempt);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "the connection to {Endpoint} ended; reconnecting in {DelayMs} ms")]
    public static partial void Reconnecting(this ILogger logger, string endpoint, long delayMs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{Endpoint} refused a connection from {Peer}: the bind holds {Max} connections already (VmciOptions.MaxConnections)")]
    public static partial void RefusedAtCap(this ILogger logger, string endpoint, VsockAddress peer, int max);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "{Endpoint} refused a connection during the handshake: the bind holds {Max} connections already (VmciOptions.MaxConnections)")]
    public static partial void RefusedAtCapInHandshake(this ILogger logger, string endpoint, int max);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "{Endpoint} dropped the connection from {Peer}: no ZMTP greeting within {TimeoutMs} ms")]
    public static partial void HandshakeDeadline(this ILogger logger, string endpoint, VsockAddress peer, long timeoutMs);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "the relay of {Endpoint} refused a loopback connection that is not from this process")]
    public static partial void RefusedStranger(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "direct mode unavailable ({Reason}); vmci endpoints use the relay (a hidden tcp://127.0.0.1 endpoint each)")]
    public static partial void DirectModeUnavailable(this ILogger logger, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "the {Loop} loop of {Endpoint} failed")]
    public static partial void LoopFailed(this ILogger logger, string loop, string endpoint, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "unbound {Endpoint}")]
    public static partial void Unbound(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "disconnected from {Endpoint}")]
    public static partial void Disconnected(this ILogger logger, string endpoint);
}
