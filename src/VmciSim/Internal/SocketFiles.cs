using System.Globalization;
using System.Net.Sockets;

namespace Vmci.Sim.Internal;

/// <summary>
/// Binding a port of a simulated machine = creating its socket file, which the OS does atomically: the file system
/// is the port table that every process shares. A file whose listener died (connect gets ECONNREFUSED) is stale:
/// it is reclaimed under a lock file, re-probed first so that two reclaimers never delete a live listener.
/// </summary>
internal static class SocketFiles
{
    /// <summary>The Unix listen backlog: large, so that connectors never wait; the vsock backlog is enforced by the handshake.</summary>
    private const int UnixBacklog = 1024;

    public enum Probe
    {
        Live,
        Stale,
        Missing,
    }

    /// <summary>Binds and listens at the socket file of (machine, port); null when the port is taken by a live listener.</summary>
    public static Socket? TryBind(FabricLayout layout, uint machine, uint port, uint boundCid) =>
        TryBind(layout.SocketPath(machine, port), boundCid);

    /// <summary>
    /// Binds and listens at <paramref name="path"/> (a port's socket file or a machine's gateway), reclaiming a stale
    /// file; writes <c>&lt;path&gt;.bound</c>. Null when a live listener holds the path.
    /// </summary>
    public static Socket? TryBind(string path, uint boundCid)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (TryBindOnce(path) is { } socket)
                return Publish(socket, path, boundCid);
            switch (ProbeFile(path))
            {
                case Probe.Live:
                    return null;
                case Probe.Stale:
                    return TryReclaim(path) is { } reclaimed
                        ? Publish(reclaimed, path, boundCid)
                        : null;
                default:
                    continue; // gone meanwhile: bind again
            }
        }
        return null;
    }

    /// <summary>Is anybody listening on this socket file?</summary>
    public static Probe ProbeFile(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return Probe.Live; // the listener sees a truncated handshake and closes it
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => Probe.Stale,
                SocketError.WouldBlock or SocketError.TryAgain or SocketError.InProgress => Probe.Live, // backlog full: alive
                _ => File.Exists(path) ? Probe.Stale : Probe.Missing,
            };
        }
    }

    private static Socket? TryBindOnce(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(UnixBacklog);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // The winner deletes the stale file AND binds and listens while it holds the lock, and removes the lock file
    // only then: a reclaimer that comes later (it may lock a new lock file once the old one is unlinked) probes a
    // listening socket, never the window between bind(2) and listen(2), which a probe would take for stale.
    private static Socket? TryReclaim(string path)
    {
        var lockPath = path + ".lock";
        FileStream held;
        try
        {
            // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Unix: another reclaimer holds it -> they will win.
            held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        using (held)
        {
            try
            {
                if (ProbeFile(path) == Probe.Live)
                    return null;
                File.Delete(path);
                File.Delete(path + ".bound");
                return TryBindOnce(path);
            }
            finally
            {
                File.Delete(lockPath);
            }
        }
    }

    private static Socket Publish(Socket socket, string path, uint boundCid)
    {
        try
        {
            File.WriteAllText(path + ".bound", string.Create(CultureInfo.InvariantCulture, $"{boundCid} {Environment.ProcessId}\n"));
            return socket;
        }
        catch
        {
            socket.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Reads a .bound file: the bound CID and the process id.</summary>
    public static (uint Cid, int ProcessId)? ReadBound(string path)
    {
        try
        {
            var parts = File.ReadAllText(path).Split(' ', '\n');
            if (parts.Length >= 2 && uint.TryParse(parts[0], CultureInfo.InvariantCulture, out var cid)
                && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var pid))
                return (cid, pid);
        }
        catch (IOException)
        {
        }
        return null;
    }
}
