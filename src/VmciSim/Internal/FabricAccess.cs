using System.Globalization;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// Who may do what in a fabric, decided once when it opens (docs/security.md):
/// <list type="bullet">
/// <item>the default directory (in the shared temp directory or XDG_RUNTIME_DIR) must be a real directory (lstat: not
/// a link) owned by the effective user, mode 0700 — else EACCES naming it: another user may have made it first;</item>
/// <item>a directory named on purpose may be shared (a group directory, a bind mount): then it must carry the sticky
/// bit when others can write it, so that no participant can rename or delete another's machine or files;</item>
/// <item>a machine directory belongs to the user who created it: only that user joins it (binds its ports, connects as
/// its CID), it is never a link, and in a shared fabric others may enter it (to connect) but not write it.</item>
/// </list>
/// The modes of what the simulator creates follow the fabric's: private (0700 directories, 0600 files and sockets), or
/// readable and connectable by those the fabric directory admits.
/// </summary>
internal sealed class FabricAccess
{
    private const uint GroupAll = 0x38; // 0070

    private const uint OtherAll = 0x7;  // 0007

    private FabricAccess(uint fabricPermissions)
    {
        var group = (fabricPermissions & GroupAll) != 0;
        var other = (fabricPermissions & OtherAll) != 0;
        DirectoryMode = 0x1C0u | (group ? 0x28u : 0) | (other ? 0x5u : 0);   // 0700 | g+rx | o+rx
        SocketMode = 0x180u | (group ? 0x30u : 0) | (other ? 0x6u : 0);      // 0600 | g+rw | o+rw (connect needs write)
        FileMode = 0x180u | (group ? 0x20u : 0) | (other ? 0x4u : 0);        // 0600 | g+r | o+r
        IsShared = group || other;
    }

    /// <summary>A private fabric (the test kit's, the default one): only its owner gets in.</summary>
    public static FabricAccess Private { get; } = new(0x1C0);

    /// <summary>Whether users other than the owner may enter the fabric (a group directory).</summary>
    public bool IsShared { get; }

    /// <summary>Machine directories: owner rwx; those the fabric admits may enter and list, never create.</summary>
    public uint DirectoryMode { get; }

    /// <summary>Listener and connector sockets: owner rw; those the fabric admits may connect.</summary>
    public uint SocketMode { get; }

    /// <summary>Files (.bound, topology, faults.json): owner rw; those the fabric admits may read.</summary>
    public uint FileMode { get; }

    /// <summary>Creates (mode 0700) and checks the fabric directory; the access rules it implies.</summary>
    /// <exception cref="VmciException">EACCES, ENOTDIR or ELOOP naming the directory and what to do.</exception>
    public static FabricAccess Open(string root, bool isDefault)
    {
        var created = false;
        if (UnixFiles.TryStat(root, out _) == Interop.ENOENT)
        {
            var parent = Path.GetDirectoryName(root);
            try
            {
                if (!isDefault && parent is not null)
                    Directory.CreateDirectory(parent);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw VmciError.From(e, VmciOperation.OpenFabric, root, $"cannot create the parent of the fabric directory: {e.Message}");
            }
            var made = UnixFiles.MakeDirectory(root, 0x1C0);
            if (made != 0 && made != Interop.EEXIST)
                throw VmciError.FromErrno(made, VmciOperation.OpenFabric, root, "cannot create the fabric directory");
            created = made == 0;
        }
        var errno = UnixFiles.TryStat(root, out var status, follow: !isDefault);
        if (errno != 0)
            throw VmciError.FromErrno(errno, VmciOperation.OpenFabric, root, "cannot read the fabric directory");
        if (!status.IsDirectory)
        {
            if (isDefault && status.IsLink)
                throw VmciError.Create(Errno.EACCES, VmciOperation.OpenFabric, root,
                    $"the default fabric is a symbolic link; another user may have planted it: remove it or set {SimSettings.FabricVariable} to a directory of your own");
            throw VmciError.Create(Errno.ENOTDIR, VmciOperation.OpenFabric, root, $"it is {status.TypeName}, not a directory");
        }
        var me = UnixFiles.EffectiveUserId;
        var permissions = status.Permissions & 0x1FFu;
        if (isDefault && UnixFiles.IsStrict && (status.Uid != me || permissions != 0x1C0))
        {
            var what = status.Uid != me
                ? string.Create(CultureInfo.InvariantCulture, $"it belongs to uid {status.Uid}, not to you (uid {me}): another user may have created it to capture your connections")
                : $"its mode is {UnixFiles.Octal(status.Permissions)}, not 0700: other users could reach your simulated machines";
            throw VmciError.Create(Errno.EACCES, VmciOperation.OpenFabric, root,
                $"{what}; the default fabric must be a directory of yours with mode 0700: "
                + (status.Uid != me ? "have it removed" : "chmod 700 it") + $", or set {SimSettings.FabricVariable} to a directory of your own");
        }
        if (!created && (status.Permissions & 0x12u) != 0 && (status.Permissions & Interop.S_ISVTX) == 0)
            throw VmciError.Create(Errno.EACCES, VmciOperation.OpenFabric, root,
                $"its mode {UnixFiles.Octal(status.Permissions)} lets others write it without the sticky bit, so any participant could rename or "
                + "replace another's machine: chmod +t it (as /tmp), or use a private directory (mode 0700)");
        return new FabricAccess(permissions);
    }

    /// <summary>Creates the machine directory <paramref name="path"/> if needed and checks that this user may serve it.</summary>
    /// <exception cref="VmciException">ELOOP for a link, ENOTDIR for a file, EACCES for another user's machine.</exception>
    public void EnsureMachine(string path, uint cid, VmciOperation operation)
    {
        var made = UnixFiles.MakeDirectory(path, DirectoryMode);
        if (made != 0 && made != Interop.EEXIST)
            throw VmciError.FromErrno(made, operation, path, $"cannot create the directory of machine {cid}");
        if (CheckMachine(path, cid) is { } refusal)
            throw refusal(operation);
    }

    /// <summary>Null when this user may serve machine <paramref name="cid"/> at <paramref name="path"/>; else the error to throw.</summary>
    public static Func<VmciOperation, VmciException>? CheckMachine(string path, uint cid)
    {
        var errno = UnixFiles.TryStat(path, out var status);
        if (errno != 0)
            return op => VmciError.FromErrno(errno, op, path, $"cannot read the directory of machine {cid}");
        if (status.IsLink)
            return op => VmciError.Create(Errno.ELOOP, op, path,
                $"the directory of machine {cid} is a symbolic link: refused (machine directories are never followed; someone may have planted it)");
        if (!status.IsDirectory)
            return op => VmciError.Create(Errno.ENOTDIR, op, path, $"the entry of machine {cid} is {status.TypeName}, not a directory");
        var me = UnixFiles.EffectiveUserId;
        if (status.Uid != me && status.Uid != UnixFiles.UnknownUid && me != UnixFiles.UnknownUid)
            return op => VmciError.Create(Errno.EACCES, op, path, string.Create(CultureInfo.InvariantCulture,
                $"machine {cid} belongs to uid {status.Uid} (who created its directory), not to you (uid {me}): only its owner binds its ports and connects as it"));
        return null;
    }
}
