using System.Globalization;
using System.Runtime.InteropServices;

namespace Vmci.Sim.Unix;

/// <summary>
/// The OS-specific bits of the simulator: the user id for the default fabric name, directory modes, the
/// privileged-port rule and the sun_path limit. Elsewhere (Windows) each degrades to a documented default.
/// </summary>
internal static partial class UnixPlatform
{
    /// <summary>CAP_NET_BIND_SERVICE, bit 10 of a capability mask (linux/capability.h).</summary>
    private const int CAP_NET_BIND_SERVICE = 10;

    /// <summary>True on Linux and macOS (and the BSDs): file modes and getuid exist.</summary>
    public static bool IsUnix => !OperatingSystem.IsWindows();

    /// <summary>
    /// The longest socket path, in bytes, without the terminating NUL: sizeof(sun_path) is 108 on Linux and
    /// Windows, 104 on macOS and the BSDs.
    /// </summary>
    public static int MaxSocketPathBytes => OperatingSystem.IsLinux() || OperatingSystem.IsWindows() ? 107 : 103;

    /// <summary>The real user id, or null where there is none (Windows) or libc cannot be reached.</summary>
    public static uint? UserId
    {
        get
        {
            if (!IsUnix)
                return null;
            try
            {
                return getuid();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The kernel's rule for ports ≤ 1023: the caller needs CAP_NET_BIND_SERVICE. On Linux this reads the effective
    /// capability mask (CapEff in /proc/self/status), so root without the capability is refused and a non-root
    /// process granted it is allowed, as by the kernel. Elsewhere: an elevated / euid 0 process.
    /// </summary>
    public static bool CanBindPrivilegedPorts()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                        && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
                        return (mask & (1UL << CAP_NET_BIND_SERVICE)) != 0;
                }
            }
            catch (IOException)
            {
                // No /proc: fall back to the euid test below.
            }
        }
        return Environment.IsPrivilegedProcess;
    }

    /// <summary>Creates <paramref name="path"/> (and parents) readable by its owner only (0700) on Unix.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (!OperatingSystem.IsWindows())
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else
            Directory.CreateDirectory(path);
    }

    /// <summary>True when group or others have any access to <paramref name="path"/> (always false off Unix).</summary>
    public static bool IsShared(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0;

    [LibraryImport("libc")]
    private static partial uint getuid();
}
