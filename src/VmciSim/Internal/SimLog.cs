using Microsoft.Extensions.Logging;

namespace Vmci.Sim.Internal;

/// <summary>The simulator's log events (category <c>Vmci.Sim</c>; off unless <see cref="VmciLogging.LoggerFactory"/> is set).</summary>
internal static partial class SimLog
{
    public static readonly ILogger Logger = VmciLogging.CreateLogger("Vmci.Sim");

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "CID {Cid}: connect to {Remote} failed: {Errno} ({Reason})")]
    public static partial void ConnectFailed(this ILogger logger, uint cid, VsockAddress remote, Errno errno, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "fabric {Fabric}: pruned {Entry}, left by a process that is gone")]
    public static partial void Pruned(this ILogger logger, string fabric, string entry);
}
