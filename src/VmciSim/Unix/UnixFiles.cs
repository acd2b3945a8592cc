using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Sim.Unix;

/// <summary>What lstat(2) says about a name (the name itself: a link is reported as a link).</summary>
/// <param name="Type">The file type bits (<see cref="Interop.S_IFMT"/>).</param>
/// <param name="Permissions">The permission bits with setuid, setgid and sticky (mode &amp; 07777).</param>
/// <param name="Uid">The owner; <see cref="UnixFiles.UnknownUid"/> where the OS cannot tell.</param>
/// <param name="Inode">The inode number (0 where unknown).</param>
/// <param name="Modified">The last modification, UTC.</param>
internal readonly record struct FileStatus(uint Type, uint Permissions, uint Uid, ulong Inode, DateTime Modified)
{
    public bool IsDirectory => Type == Interop.S_IFDIR;

    public bool IsLink => Type == Interop.S_IFLNK;

    public bool IsSocket => Type == Interop.S_IFSOCK;

    public bool IsRegular => Type == Interop.S_IFREG;

    /// <summary>The type in words, for messages.</summary>
    public string TypeName => Type switch
    {
        Interop.S_IFDIR => "a directory",
        Interop.S_IFLNK => "a symbolic link",
        Interop.S_IFSOCK => "a socket",
        Interop.S_IFREG => "a regular file",
        _ => "a special file",
    };
}

/// <summary>
/// File operations that never follow a link at the name they act on and never reuse a name that exists: exclusive
/// creation (O_CREAT|O_EXCL|O_NOFOLLOW), rename without replacing (renameat2 RENAME_NOREPLACE, else link(2)), lstat by
/// statx, locks on directories (flock) instead of lock files. Every call returns the errno (0 for success) and retries
/// EINTR. Linux does all of it; elsewhere each falls back to the closest managed call (docs/security.md says what
/// that loses).
/// </summary>
internal static class UnixFiles
{
    /// <summary>The owner reported where the OS cannot tell (not Linux).</summary>
    public const uint UnknownUid = uint.MaxValue;

    /// <summary>True where the strict calls exist (Linux).</summary>
    public static bool IsStrict => OperatingSystem.IsLinux();

    /// <summary>The effective user id (the owner of what this process creates); <see cref="UnknownUid"/> off Unix.</summary>
    public static uint EffectiveUserId { get; } = ReadEffectiveUserId();

    /// <summary>
    /// lstat: the name itself (with <paramref name="follow"/>, what a link at the name points to). 0, or the errno
    /// (ENOENT when there is nothing).
    /// </summary>
    public static int TryStat(string path, out FileStatus status, bool follow = false)
    {
        status = default;
        if (!IsStrict)
            return ManagedStat(path, out status);
        int result;
        Interop.Statx buffer;
        var flags = follow ? 0 : Interop.AT_SYMLINK_NOFOLLOW;
        while ((result = Interop.statx(Interop.AT_FDCWD, path, flags, Interop.STATX_BASIC_STATS, out buffer)) < 0
            && Marshal.GetLastPInvokeError() == Interop.EINTR)
        {
        }
        if (result < 0)
            return Marshal.GetLastPInvokeError();
        var modified = DateTime.UnixEpoch.AddSeconds(buffer.ModifyTime.Seconds).AddTicks(buffer.ModifyTime.Nanoseconds / 100);
        status = new FileStatus(buffer.Mode & Interop.S_IFMT, buffer.Mode & 0xFFFu, buffer.Uid, buffer.Inode, modified);
        return 0;
    }

    /// <summary>mkdir(2) with <paramref name="mode"/> (less the umask): 0, EEXIST when the name exists (whatever it is), or the errno.</summary>
    public static int MakeDirectory(string path, uint mode)
    {
        if (!IsStrict)
        {
            if (Path.Exists(path))
                return Interop.EEXIST;
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(path);
            else
                Directory.CreateDirectory(path, (UnixFileMode)mode);
            return 0;
        }
        return Retry(() => Interop.mkdir(path, mode));
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="content"/>: EEXIST when the name exists (a file, a directory
    /// or a link — none is opened), else the file is new, ours, of mode <paramref name="mode"/> less the umask.
    /// </summary>
    public static int CreateExclusive(string path, uint mode, ReadOnlySpan<byte> content)
    {
        SafeFileHandle handle;
        if (IsStrict)
        {
            var fd = 0;
            var errno = Retry(() => fd = Interop.open(path, Interop.O_WRONLY | Interop.O_CREAT | Interop.O_EXCL | Interop.O_NOFOLLOW | Interop.O_CLOEXEC, mode));
            if (errno != 0)
                return errno;
            handle = new SafeFileHandle(fd, ownsHandle: true);
        }
        else
        {
            try
            {
                handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            }
            catch (IOException e) when (Path.Exists(path))
            {
                _ = e;
                return Interop.EEXIST;
            }
        }
        using (handle)
        {
            try
            {
                RandomAccess.Write(handle, content, 0);
                return 0;
            }
            catch (IOException e)
            {
                Unlink(path);
                return e.HResult > 0 ? e.HResult : Interop.EINVAL;
            }
        }
    }

    /// <summary>
    /// Reads a small regular file without following a link at its name and without blocking on a FIFO (O_NOFOLLOW,
    /// O_NONBLOCK): 0 with its bytes; ELOOP for a link, EISDIR for a directory, EINVAL for anything but a regular file,
    /// EFBIG when it holds more than <paramref name="maxBytes"/>; or the errno (ENOENT).
    /// </summary>
    public static int ReadSmall(string path, int maxBytes, out byte[] content)
    {
        content = [];
        SafeFileHandle handle;
        if (IsStrict)
        {
            var fd = 0;
            var errno = Retry(() => fd = Interop.open(path, Interop.O_RDONLY | Interop.O_NOFOLLOW | Interop.O_NONBLOCK | Interop.O_CLOEXEC, 0));
            if (errno != 0)
                return errno;
            handle = new SafeFileHandle(fd, ownsHandle: true);
            int result;
            Interop.Statx buffer;
            while ((result = Interop.statx(fd, "", Interop.AT_EMPTY_PATH, Interop.STATX_BASIC_STATS, out buffer)) < 0
                && Marshal.GetLastPInvokeError() == Interop.EINTR)
            {
            }
            var type = buffer.Mode & Interop.S_IFMT;
            if (result < 0 || type != Interop.S_IFREG)
            {
                handle.Dispose();
                return result < 0 ? Marshal.GetLastPInvokeError() : type == Interop.S_IFDIR ? Interop.EISDIR : Interop.EINVAL;
            }
        }
        else
        {
            var errno = ManagedStat(path, out var status);
            if (errno != 0)
                return errno;
            if (!status.IsRegular)
                return status.IsDirectory ? Interop.EISDIR : status.IsLink ? Interop.ELOOP : Interop.EINVAL;
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                return Interop.ENOENT;
            }
        }
        using (handle)
        {
            var buffer = new byte[maxBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(length), length)) > 0)
                length += read;
            if (length > maxBytes)
                return Interop.EFBIG;
            content = buffer[..length];
            return 0;
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> atomically with a new file of <paramref name="content"/>: written under a random
    /// name beside it (exclusive create), then renamed over it — rename(2) replaces a link at the name, never follows it.
    /// Readers see the old file or the new one. 0, or the errno.
    /// </summary>
    public static int WriteReplacing(string path, ReadOnlySpan<byte> content, uint mode)
    {
        var directory = Path.GetDirectoryName(path) ?? ".";
        for (var attempt = 0; ; attempt++)
        {
            var temporary = Path.Combine(directory, TemporaryName());
            var errno = CreateExclusive(temporary, mode, content);
            if (errno == Interop.EEXIST && attempt < 8)
                continue; // a random name taken: another one
            if (errno != 0)
                return errno;
            errno = Rename(temporary, path);
            if (errno != 0)
                Unlink(temporary);
            return errno;
        }
    }

    /// <summary>rename(2), replacing the target (a link at the target is replaced, not followed). 0, or the errno.</summary>
    public static int Rename(string from, string to)
    {
        if (!IsStrict)
            return Managed(() => File.Move(from, to, overwrite: true));
        return Retry(() => Interop.renameat2(Interop.AT_FDCWD, from, Interop.AT_FDCWD, to, 0));
    }

    /// <summary>
    /// Gives <paramref name="from"/> the name <paramref name="to"/> unless that name exists (EEXIST): renameat2 with
    /// RENAME_NOREPLACE, or where the file system lacks it, link(2) then unlink(2) — both atomic on the new name.
    /// </summary>
    public static int RenameNoReplace(string from, string to)
    {
        if (!IsStrict)
            return Path.Exists(to) ? Interop.EEXIST : Managed(() => File.Move(from, to, overwrite: false));
        var errno = Retry(() => Interop.renameat2(Interop.AT_FDCWD, from, Interop.AT_FDCWD, to, Interop.RENAME_NOREPLACE));
        if (errno is not (Interop.EINVAL or Interop.ENOSYS or Interop.EOPNOTSUPP))
            return errno;
        errno = Retry(() => Interop.link(from, to));
        if (errno == 0)
            Unlink(from);
        return errno;
    }

    /// <summary>unlink(2): removes the name (a link itself, never its target). 0, or the errno.</summary>
    public static int Unlink(string path) =>
        IsStrict ? Retry(() => Interop.unlink(path)) : Managed(() => File.Delete(path));

    /// <summary>chmod(2) of a name this process just created in a directory only it can write. 0, or the errno.</summary>
    public static int ChangeMode(string path, uint mode)
    {
        if (OperatingSystem.IsWindows())
            return 0;
        if (!IsStrict)
        {
            try
            {
                File.SetUnixFileMode(path, (UnixFileMode)mode);
                return 0;
            }
            catch (IOException e)
            {
                return e.HResult > 0 ? e.HResult : Interop.ENOENT;
            }
        }
        return Retry(() => Interop.chmod(path, mode));
    }

    /// <summary>
    /// Takes an exclusive flock(2) on the directory <paramref name="path"/> itself (opened O_DIRECTORY|O_NOFOLLOW: no lock
    /// file to plant a link at), waiting up to <paramref name="wait"/>. Null with the errno (EWOULDBLOCK: still held).
    /// </summary>
    public static IDisposable? LockDirectory(string path, TimeSpan wait, out int errno)
    {
        if (!IsStrict)
            return ManagedLock(path, wait, out errno);
        var fd = 0;
        errno = Retry(() => fd = Interop.open(path, Interop.O_RDONLY | Interop.O_DIRECTORY | Interop.O_NOFOLLOW | Interop.O_CLOEXEC, 0));
        if (errno != 0)
            return null;
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            errno = Retry(() => Interop.flock(fd, Interop.LOCK_EX | Interop.LOCK_NB));
            if (errno == 0)
                return handle; // closing the descriptor releases the lock
            if (errno != Interop.EWOULDBLOCK || Environment.TickCount64 >= deadline)
            {
                handle.Dispose();
                return null;
            }
            Thread.Sleep(1); // a holder keeps it for a few system calls
        }
    }

    /// <summary>kill(pid, 0): true when the process exists (in this PID namespace), false when it does not, null when unknown.</summary>
    public static bool? ProcessExists(int pid)
    {
        if (pid <= 0 || !IsStrict)
            return null;
        var errno = Retry(() => Interop.kill(pid, 0));
        return errno switch
        {
            0 => true,
            Interop.ESRCH => false,
            _ => true, // EPERM: it exists, owned by someone else
        };
    }

    /// <summary>This process's PID namespace ("pid:[4026531836]"); a pid means something only in the namespace it was read in.</summary>
    public static string PidNamespace { get; } = ReadPidNamespace();

    /// <summary>A fresh name for a temporary entry: a dot, then 9 random base-32 characters (45 bits; at most 10 bytes).</summary>
    public static string TemporaryName(char kind = 't')
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        Span<char> name = stackalloc char[10];
        name[0] = '.';
        name[1] = kind;
        for (var i = 2; i < name.Length; i++)
            name[i] = Alphabet[random[i - 2] & 31];
        return new string(name);
    }

    private static int Retry(Func<int> call)
    {
        while (true)
        {
            if (call() >= 0)
                return 0;
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.EINTR)
                return errno;
        }
    }

    private static int Managed(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (FileNotFoundException)
        {
            return Interop.ENOENT;
        }
        catch (DirectoryNotFoundException)
        {
            return Interop.ENOENT;
        }
        catch (UnauthorizedAccessException)
        {
            return Interop.EACCES;
        }
        catch (IOException e)
        {
            return e.HResult > 0 ? e.HResult : Interop.EEXIST;
        }
    }

    private static int ManagedStat(string path, out FileStatus status)
    {
        status = default;
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null)
            return Interop.ENOENT;
        var type = info.LinkTarget is not null ? Interop.S_IFLNK : info is DirectoryInfo ? Interop.S_IFDIR : Interop.S_IFREG;
        var mode = OperatingSystem.IsWindows() ? 0x1C0u : (uint)info.UnixFileMode;
        status = new FileStatus(type, mode, UnknownUid, 0, info.LastWriteTimeUtc);
        return 0;
    }

    private static FileStream? ManagedLock(string path, TimeSpan wait, out int errno)
    {
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            try
            {
                errno = 0;
                return new FileStream(Path.Combine(path, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(1);
            }
            catch (IOException)
            {
                errno = Interop.EWOULDBLOCK;
                return null;
            }
        }
    }

    private static uint ReadEffectiveUserId()
    {
        if (OperatingSystem.IsWindows())
            return UnknownUid;
        try
        {
            return Interop.geteuid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return UnknownUid;
        }
    }

    private static string ReadPidNamespace()
    {
        try
        {
            return OperatingSystem.IsLinux() ? new FileInfo("/proc/self/ns/pid").LinkTarget ?? "" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Octal, for messages: 0700.</summary>
    public static string Octal(uint mode) => "0" + Convert.ToString(mode & 0xFFF, 8).PadLeft(3, '0');
}
