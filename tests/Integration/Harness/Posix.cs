using System.Runtime.InteropServices;

namespace Integration.Harness;

/// <summary>The current process's user and group IDs (containers run with the same ones).</summary>
internal static partial class Posix
{
    /// <summary>getuid(2).</summary>
    public static uint UserId => getuid();

    /// <summary>getgid(2).</summary>
    public static uint GroupId => getgid();

    [LibraryImport("libc")]
    private static partial uint getuid();

    [LibraryImport("libc")]
    private static partial uint getgid();
}
