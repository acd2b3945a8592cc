using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// Binding a port of a simulated machine = giving a listening socket the port's name, which the OS does atomically:
/// the file system is the port table that every process shares. The socket is bound and listening under a random
/// temporary name first and only then renamed into place without replacing anything (renameat2 RENAME_NOREPLACE), so
/// a socket file only ever appears already listening: a probe that is refused (ECONNREFUSED) means its listener is
/// gone. Such a stale file is reclaimed under a lock on the machine directory (flock, no lock file), re-probed first so
/// that two reclaimers never remove a live listener. Nothing here follows a link: a link or a regular file at a port's
/// name is junk and is removed (unlink removes the name, never its target).
/// </summary>
internal static class SocketFiles
{
    /// <summary>The Unix listen backlog: large, so that connectors never wait; the vsock backlog is enforced by the handshake.</summary>
    private const int UnixBacklog = 1024;

    /// <summary>How long a binder waits for another process's reclaim of the same machine (a few system calls).</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(2);

    /// <summary>Where each socket of this process was placed, so that its release removes its own file and nothing else.</summary>
    private static readonly ConditionalWeakTable<Socket, Placement> Placements = [];

    public enum Probe
    {
        Live,
        Stale,
        Missing,
    }

    /// <summary>Binds and listens at the socket file of (machine, port); null when the port is taken by a live listener.</summary>
    public static Socket? TryBind(FabricLayout layout, uint machine, uint port, uint boundCid) =>
        TryBind(layout.SocketPath(machine, port), boundCid, layout.Access);

    /// <summary>
    /// Binds and listens at <paramref name="path"/>, reclaiming a stale file, and writes <c>&lt;path&gt;.bound</c>. Null
    /// when a live listener holds the path.
    /// </summary>
    /// <exception cref="VmciException">The machine directory cannot be written (EACCES, ENOENT, …).</exception>
    public static Socket? TryBind(string path, uint boundCid, FabricAccess? access = null)
    {
        access ??= FabricAccess.Private;
        var directory = Path.GetDirectoryName(path)!;
        var (socket, temporary) = BindTemporary(directory, access, path);
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var errno = UnixFiles.RenameNoReplace(temporary, path);
                if (errno == 0)
                    return Publish(socket, path, boundCid, access);
                if (errno != Interop.EEXIST)
                    throw VmciError.FromErrno(errno, VmciOperation.Bind, path, "cannot give the listening socket its port's name");
                switch (ProbeFile(path))
                {
                    case Probe.Live:
                        return Discard(socket, temporary);
                    case Probe.Stale:
                        return TryReclaim(socket, temporary, path) ? Publish(socket, path, boundCid, access) : Discard(socket, temporary);
                    default:
                        continue; // gone meanwhile: rename again
                }
            }
            return Discard(socket, temporary);
        }
        catch
        {
            Discard(socket, temporary);
            throw;
        }
    }

    /// <summary>
    /// Is anybody listening on this socket file? A name that is not a socket (a link, a regular file) is junk: Stale,
    /// removable without following it. A directory is never removed: Live.
    /// </summary>
    public static Probe ProbeFile(string path)
    {
        var errno = UnixFiles.TryStat(path, out var status);
        if (errno == Interop.ENOENT)
            return Probe.Missing;
        if (errno != 0 || status.IsDirectory)
            return Probe.Live;
        if (!status.IsSocket)
            return status.IsLink || status.IsRegular ? Probe.Stale : Probe.Live;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return Probe.Live; // the listener sees a connector that sends nothing and closes it
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => Probe.Stale,
                _ when UnixFiles.TryStat(path, out _) == Interop.ENOENT => Probe.Missing,
                _ => Probe.Live, // backlog full (EAGAIN), no permission (EACCES): somebody's, not ours to remove
            };
        }
    }

    /// <summary>
    /// Removes the stale file at <paramref name="path"/> (and its .bound) under the machine directory's lock, re-probing
    /// first. True when something was removed.
    /// </summary>
    public static bool RemoveStale(string path)
    {
        using var held = UnixFiles.LockDirectory(Path.GetDirectoryName(path)!, LockWait, out _);
        if (held is null || ProbeFile(path) != Probe.Stale)
            return false;
        UnixFiles.Unlink(path);
        UnixFiles.Unlink(path + ".bound");
        return true;
    }

    /// <summary>
    /// Closes a socket that <see cref="TryBind(string, uint, FabricAccess?)"/> bound: its name (and .bound) is removed first,
    /// while it still listens and only if it is still this socket's file, so nobody ever sees it stale and nothing of
    /// another listener is touched.
    /// </summary>
    /// <param name="socket">The listening socket.</param>
    /// <param name="path">Where its file is now, when it may have moved (a CID change renames the machine directory); null: where it was bound.</param>
    public static void Release(Socket socket, string? path = null)
    {
        if (Placements.TryGetValue(socket, out var placement))
        {
            Placements.Remove(socket);
            path ??= placement.Path;
            if (UnixFiles.TryStat(path, out var status) == 0 && status.IsSocket && status.Inode == placement.Inode)
            {
                UnixFiles.Unlink(path);
                UnixFiles.Unlink(path + ".bound");
            }
        }
        socket.Dispose();
    }

    /// <summary>Reads a .bound file: the bound CID, the process id and its PID namespace ("" when not recorded).</summary>
    public static (uint Cid, int ProcessId, string Namespace)? ReadBound(string path)
    {
        if (UnixFiles.ReadSmall(path, 128, out var bytes) != 0)
            return null;
        var parts = Encoding.ASCII.GetString(bytes).Split(' ', '\n');
        if (parts.Length >= 2 && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var cid)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            return (cid, pid, parts.Length >= 3 ? parts[2] : "");
        return null;
    }

    /// <summary>A listening socket under a fresh random name in <paramref name="directory"/>, with the fabric's socket mode.</summary>
    private static (Socket Socket, string Temporary) BindTemporary(string directory, FabricAccess access, string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var temporary = Path.Combine(directory, UnixFiles.TemporaryName('b'));
            var socket = UnixSockets.TryCreateBound(temporary, UnixBacklog, out var errno);
            if (socket is null)
            {
                if (errno == Interop.EADDRINUSE && attempt < 8)
                    continue;
                throw VmciError.FromErrno(errno, VmciOperation.Bind, path, $"cannot create a listening socket in {directory}");
            }
            errno = UnixFiles.ChangeMode(temporary, access.SocketMode);
            if (errno != 0)
            {
                Discard(socket, temporary);
                throw VmciError.FromErrno(errno, VmciOperation.Bind, path, "cannot set the listening socket's mode");
            }
            return (socket, temporary);
        }
    }

    // The reclaimer removes the stale file and renames its (already listening) socket into place while it holds the
    // machine directory's lock: a later reclaimer probes a live listener, never a gap it could take for stale.
    private static bool TryReclaim(Socket socket, string temporary, string path)
    {
        using var held = UnixFiles.LockDirectory(Path.GetDirectoryName(path)!, LockWait, out _);
        if (held is null || ProbeFile(path) != Probe.Stale)
            return false;
        UnixFiles.Unlink(path);
        UnixFiles.Unlink(path + ".bound");
        return UnixFiles.RenameNoReplace(temporary, path) == 0;
    }

    private static Socket Publish(Socket socket, string path, uint boundCid, FabricAccess access)
    {
        var inode = UnixFiles.TryStat(path, out var status) == 0 ? status.Inode : 0;
        Placements.AddOrUpdate(socket, new Placement(path, inode));
        var content = string.Create(CultureInfo.InvariantCulture, $"{boundCid} {Environment.ProcessId} {UnixFiles.PidNamespace}\n");
        var errno = UnixFiles.WriteReplacing(path + ".bound", Encoding.ASCII.GetBytes(content), access.FileMode);
        if (errno == 0)
            return socket;
        Release(socket);
        throw VmciError.FromErrno(errno, VmciOperation.Bind, path, "cannot write the listener's .bound file");
    }

    private static Socket? Discard(Socket socket, string temporary)
    {
        UnixFiles.Unlink(temporary);
        socket.Dispose();
        return null;
    }

    private sealed record Placement(string Path, ulong Inode);
}
