using System.Globalization;

namespace Vmci.Transport.Tests;

/// <summary>The listening TCP sockets of this process (Linux /proc), as <c>ss -ltnp</c> would show them: "no TCP listener" made checkable.</summary>
internal static class TcpListeners
{
    /// <summary>The inodes of this process's TCP sockets in the LISTEN state.</summary>
    public static HashSet<ulong> OfThisProcess()
    {
        var listening = new HashSet<ulong>();
        foreach (var table in (string[])["/proc/net/tcp", "/proc/net/tcp6"])
        {
            if (!File.Exists(table))
                continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == "0A" && ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                    listening.Add(inode);
            }
        }
        var own = new HashSet<ulong>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && ulong.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) && listening.Contains(inode))
                    own.Add(inode);
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }
        return own;
    }
}
