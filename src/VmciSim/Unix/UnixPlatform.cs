using System.Globalization;

namespace Vmci.Sim.Unix;

/// <summary>
/// The OS-specific bits of the simulator: the privileged-port rule and the sun_path limit. Elsewhere (Windows) each
/// degrades to a documented default. Files and sockets: <see cref="UnixFiles"/>, <see cref="UnixSockets"/>.
/// </summary>
internal static class UnixPlatform
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
}
