using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// Reading a fabric's directories without following anything: names are listed (readdir never follows), and each entry
/// is judged by lstat, so a link planted where a machine directory or a port should be is skipped, never entered.
/// </summary>
internal static class FabricEntries
{
    /// <summary>The machine directories (decimal names that are real directories, not links), by CID.</summary>
    /// <exception cref="VmciException">The fabric directory cannot be read.</exception>
    public static IEnumerable<(uint Cid, string Path)> Machines(FabricLayout layout)
    {
        foreach (var path in Names(layout.Root, VmciOperation.OpenFabric))
        {
            if (FabricLayout.TryParseNumber(Path.GetFileName(path), out var cid)
                && UnixFiles.TryStat(path, out var status) == 0 && status.IsDirectory)
                yield return (cid, path);
        }
    }

    /// <summary>The port entries of a machine directory (decimal names, whatever they are); none when it cannot be read.</summary>
    public static IEnumerable<(uint Port, string Path)> Ports(string machineDirectory)
    {
        foreach (var path in NamesOrNone(machineDirectory))
        {
            if (FabricLayout.TryParseNumber(Path.GetFileName(path), out var port))
                yield return (port, path);
        }
    }

    /// <summary>Every name in <paramref name="directory"/>, as full paths; none when it cannot be read (another user's machine).</summary>
    public static IReadOnlyList<string> NamesOrNone(string directory)
    {
        try
        {
            return Names(directory, VmciOperation.OpenFabric);
        }
        catch (VmciException)
        {
            return [];
        }
    }

    /// <summary>A small fabric file's read or write failure, naming the file and the rule.</summary>
    public static VmciException FileError(int errno, VmciOperation operation, string path, int limit) => errno switch
    {
        Interop.EISDIR => VmciError.Create(Errno.EISDIR, operation, path, "a directory where a fabric file should be: remove it"),
        Interop.ELOOP => VmciError.Create(Errno.ELOOP, operation, path, "a symbolic link where a fabric file should be: refused (never followed); remove it"),
        Interop.EFBIG => VmciError.Create(Errno.EINVAL, operation, path, $"larger than {limit} bytes: not a fabric file"),
        Interop.EINVAL => VmciError.Create(Errno.EINVAL, operation, path, "not a regular file: refused"),
        _ => VmciError.FromErrno(errno, operation, path),
    };

    private static List<string> Names(string directory, VmciOperation operation)
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(directory)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw VmciError.From(e, operation, directory, $"cannot list the fabric directory: {e.Message}");
        }
    }
}
