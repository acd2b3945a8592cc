using System.Runtime.InteropServices;

namespace Integration.Harness;

/// <summary>The current process's user and group IDs (containers run with the same ones).</summary>
internal static partial class Posix
{
    /// <summary>getuid(2).</summary>
    public static uint UserId => getuid();

    /// <summary>getgid(2).</summary>
    public static uint GroupId => getgid();

    /// <summary>kill(2) with SIGTERM: asks process <paramref name="pid"/> to end (an exited process is ignored).</summary>
    /// <param name="pid">The process ID.</param>
    public static void Terminate(int pid) => _ = kill(pid, 15);

    [LibraryImport("libc")]
    private static partial uint getuid();

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    private static partial uint getgid();
}
