using System.Runtime.InteropServices;

namespace Vmci.Sim.Unix;

/// <summary>
/// The Linux libc calls the simulator makes itself, so that it can create, rename, stat and lock fabric files without
/// following links and read every errno where the call returns it. Each call that can return EINTR is retried by its
/// caller (<see cref="UnixFiles"/>, <see cref="UnixSockets"/>); every int-returning call is declared as int.
/// </summary>
internal static unsafe partial class Interop
{
    private const string Libc = "libc";

    /// <summary>AT_FDCWD: paths are relative to the working directory.</summary>
    internal const int AT_FDCWD = -100;

    /// <summary>AT_SYMLINK_NOFOLLOW: statx reports a link itself, not its target.</summary>
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary>AT_EMPTY_PATH: statx of the descriptor itself.</summary>
    internal const int AT_EMPTY_PATH = 0x1000;

    /// <summary>STATX_BASIC_STATS: type, mode, owner, inode, size, times.</summary>
    internal const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>O_WRONLY for open(2).</summary>
    internal const int O_WRONLY = 0x1;

    /// <summary>O_RDONLY for open(2).</summary>
    internal const int O_RDONLY = 0x0;

    /// <summary>O_CREAT: create the file.</summary>
    internal const int O_CREAT = 0x40;

    /// <summary>O_EXCL with O_CREAT: fail with EEXIST when the name exists, even as a dangling link.</summary>
    internal const int O_EXCL = 0x80;

    /// <summary>O_NOFOLLOW: fail with ELOOP when the last component is a symbolic link.</summary>
    internal const int O_NOFOLLOW = 0x20000;

    /// <summary>O_DIRECTORY: fail with ENOTDIR unless the path is a directory.</summary>
    internal const int O_DIRECTORY = 0x10000;

    /// <summary>O_NONBLOCK: open(2) of a FIFO does not wait for a writer.</summary>
    internal const int O_NONBLOCK = 0x800;

    /// <summary>O_CLOEXEC: not inherited by child processes.</summary>
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>RENAME_NOREPLACE for renameat2(2): fail with EEXIST instead of replacing the target.</summary>
    internal const uint RENAME_NOREPLACE = 1;

    /// <summary>LOCK_EX for flock(2).</summary>
    internal const int LOCK_EX = 2;

    /// <summary>LOCK_NB for flock(2): EWOULDBLOCK instead of waiting.</summary>
    internal const int LOCK_NB = 4;

    /// <summary>LOCK_UN for flock(2).</summary>
    internal const int LOCK_UN = 8;

    /// <summary>AF_UNIX.</summary>
    internal const int AF_UNIX = 1;

    /// <summary>SOCK_STREAM.</summary>
    internal const int SOCK_STREAM = 1;

    /// <summary>SOCK_CLOEXEC.</summary>
    internal const int SOCK_CLOEXEC = 0x80000;

    /// <summary>SOL_SOCKET.</summary>
    internal const int SOL_SOCKET = 1;

    /// <summary>SO_PEERCRED: the peer's pid, uid and gid, as of connect(2) / listen(2).</summary>
    internal const int SO_PEERCRED = 17;

    /// <summary>The file type bits of st_mode.</summary>
    internal const uint S_IFMT = 0xF000;

    /// <summary>A directory.</summary>
    internal const uint S_IFDIR = 0x4000;

    /// <summary>A regular file.</summary>
    internal const uint S_IFREG = 0x8000;

    /// <summary>A symbolic link.</summary>
    internal const uint S_IFLNK = 0xA000;

    /// <summary>A socket.</summary>
    internal const uint S_IFSOCK = 0xC000;

    /// <summary>The sticky bit: in a directory, only an entry's owner may rename or delete it.</summary>
    internal const uint S_ISVTX = 0x200;

    /// <summary>EINTR: interrupted, retried.</summary>
    internal const int EINTR = 4;

    /// <summary>ENOENT.</summary>
    internal const int ENOENT = 2;

    /// <summary>ESRCH: no such process.</summary>
    internal const int ESRCH = 3;

    /// <summary>EACCES.</summary>
    internal const int EACCES = 13;

    /// <summary>EEXIST.</summary>
    internal const int EEXIST = 17;

    /// <summary>ENAMETOOLONG.</summary>
    internal const int ENAMETOOLONG = 36;

    /// <summary>EADDRINUSE.</summary>
    internal const int EADDRINUSE = 98;

    /// <summary>ELOOP: a link where none may be.</summary>
    internal const int ELOOP = 40;

    /// <summary>ENOTDIR.</summary>
    internal const int ENOTDIR = 20;

    /// <summary>EISDIR.</summary>
    internal const int EISDIR = 21;

    /// <summary>EFBIG: a file larger than allowed.</summary>
    internal const int EFBIG = 27;

    /// <summary>EINVAL.</summary>
    internal const int EINVAL = 22;

    /// <summary>EWOULDBLOCK (EAGAIN).</summary>
    internal const int EWOULDBLOCK = 11;

    /// <summary>ENOSYS: the kernel or libc lacks the call.</summary>
    internal const int ENOSYS = 38;

    /// <summary>EOPNOTSUPP: the file system lacks the operation.</summary>
    internal const int EOPNOTSUPP = 95;

    /// <summary>The size of sockaddr_un: family (2) and sun_path (108).</summary>
    internal const int SockaddrUnSize = 110;

    /// <summary>struct statx_timestamp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        public int Reserved;
    }

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Links;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        public ushort Spare0;
        public ulong Inode;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp AccessTime;
        public StatxTimestamp BirthTime;
        public StatxTimestamp ChangeTime;
        public StatxTimestamp ModifyTime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
        public fixed ulong Spare2[14];
    }

    /// <summary>struct ucred: what SO_PEERCRED returns.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Ucred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string path, int flags, uint mask, out Statx buffer);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int flock(int fd, int operation);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mkdir(string path, uint mode);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int chmod(string path, uint mode);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int link(string oldpath, string newpath);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int unlink(string path);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int kill(int pid, int signal);

    [LibraryImport(Libc)]
    internal static partial uint geteuid();

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int bind(int fd, byte* address, int length);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int listen(int fd, int backlog);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int getpeername(nint fd, byte* address, ref int length);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int getsockopt(nint fd, int level, int name, out Ucred value, ref int length);
}
