using System.Collections.Concurrent;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// Removes what dead participants left in a machine directory, so that a killed listener's files do not stay until
/// somebody happens to bind that very port:
/// <list type="bullet">
/// <item>a port's socket file whose owner is gone: before a bind, those whose <c>.bound</c> names a process of this PID
/// namespace that no longer exists (kill(pid, 0): ESRCH); for <c>vmci sim status</c> and <c>vmci sim prune</c>, every
/// socket file nobody answers on (a socket file only appears already listening, so a refused probe means its listener
/// closed). Either way re-probed under the machine directory's lock, and removed with its <c>.bound</c>;</item>
/// <item>a <c>.bound</c> file without its socket file, once its process is gone or it is a minute old;</item>
/// <item>temporary entries (<c>.b…</c>, <c>.c…</c>, <c>.t…</c>) older than a minute — a handshake or a rename takes
/// milliseconds.</item>
/// </list>
/// Nothing is followed: entries are judged by lstat and removed by unlink(2), which removes a link, never its target.
/// </summary>
internal static class StalePruner
{
    /// <summary>How old a temporary or orphaned entry must be before it is removed.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    /// <summary>A bind prunes its machine at most this often per process (a bind must stay cheap with many listeners).</summary>
    private static readonly TimeSpan BindInterval = TimeSpan.FromSeconds(1);

    private static readonly ConcurrentDictionary<string, long> LastBindPrune = new(StringComparer.Ordinal);

    /// <summary>The pruning a bind does: owners known to be gone only, at most once a second per machine directory.</summary>
    public static void BeforeBind(string machineDirectory)
    {
        var now = Environment.TickCount64;
        if (LastBindPrune.TryGetValue(machineDirectory, out var last) && now - last < (long)BindInterval.TotalMilliseconds)
            return;
        LastBindPrune[machineDirectory] = now;
        Prune(machineDirectory, probeAll: false);
    }

    /// <summary>Prunes <paramref name="machineDirectory"/>; returns the paths removed.</summary>
    /// <param name="machineDirectory">A machine directory already checked to be a real directory of this user.</param>
    /// <param name="probeAll">Probe every socket file (status, prune) rather than only those whose owner is known dead (bind).</param>
    public static List<string> Prune(string machineDirectory, bool probeAll)
    {
        var removed = new List<string>();
        var names = FabricEntries.NamesOrNone(machineDirectory);
        var present = new HashSet<string>(names, StringComparer.Ordinal);
        var now = DateTime.UtcNow;
        foreach (var path in names)
        {
            var name = Path.GetFileName(path);
            if (FabricLayout.TryParseNumber(name, out _))
            {
                var bound = SocketFiles.ReadBound(path + ".bound");
                if ((probeAll || OwnerGone(bound)) && SocketFiles.RemoveStale(path))
                {
                    removed.Add(path);
                    if (present.Contains(path + ".bound"))
                        removed.Add(path + ".bound");
                }
            }
            else if (name.EndsWith(".bound", StringComparison.Ordinal) && FabricLayout.TryParseNumber(name[..^6], out _))
            {
                var socket = path[..^6];
                if (!present.Contains(socket) && UnixFiles.TryStat(path, out var status) == 0 && status.IsRegular
                    && (OwnerGone(SocketFiles.ReadBound(path)) || now - status.Modified > Grace)
                    && UnixFiles.TryStat(socket, out _) == Interop.ENOENT && UnixFiles.Unlink(path) == 0)
                    removed.Add(path);
            }
            else if (FabricLayout.IsTemporaryName(name)
                && UnixFiles.TryStat(path, out var status) == 0 && !status.IsDirectory && now - status.Modified > Grace
                && UnixFiles.Unlink(path) == 0)
            {
                removed.Add(path);
            }
        }
        return removed;
    }

    /// <summary>True only when the .bound names a process of this PID namespace that does not exist.</summary>
    private static bool OwnerGone((uint Cid, int ProcessId, string Namespace)? bound) =>
        bound is { } b && b.Namespace.Length > 0 && b.Namespace == UnixFiles.PidNamespace && UnixFiles.ProcessExists(b.ProcessId) == false;
}
