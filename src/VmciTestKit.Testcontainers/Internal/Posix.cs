using System.Runtime.InteropServices;

namespace Vmci.TestKit.Testcontainers.Internal;

/// <summary>The current process's user and group IDs: a container runs with them, so the fabric's files stay the user's.</summary>
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
