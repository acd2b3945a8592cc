using System.Diagnostics;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>CI or full sizes: <c>VMCI_RELIABILITY=full</c> selects the full ones.</summary>
internal static class Sizes
{
    public static bool Full => string.Equals(Environment.GetEnvironmentVariable("VMCI_RELIABILITY"), "full", StringComparison.OrdinalIgnoreCase);

    public static int Pick(int ci, int full) => Full ? full : ci;

    /// <summary>
    /// One deadline for a whole soak: the CI sizes take seconds each, five times the kit's default leaves room for a slow
    /// CI machine; the full sizes run for many minutes.
    /// </summary>
    public static TimeSpan Timeout => Full ? TimeSpan.FromHours(1) : 5 * Watchdog.DefaultTimeout;

    /// <summary>The watchdog of one test.</summary>
    public static Watchdog StartWatchdog() => Watchdog.Start(Timeout, TestContext.Current.CancellationToken);
}

/// <summary>Sequence-numbered, checksummed messages: [seq u64][length u32][payload][FNV-1a 64 of all before].</summary>
internal static class Framing
{
    public const int Header = 12;
    public const int Trailer = 8;

    public static byte[] Make(ulong seq, int payloadLength, Random random)
    {
        var message = new byte[Header + payloadLength + Trailer];
        BitConverter.TryWriteBytes(message.AsSpan(0, 8), seq);
        BitConverter.TryWriteBytes(message.AsSpan(8, 4), payloadLength);
        random.NextBytes(message.AsSpan(Header, payloadLength));
        BitConverter.TryWriteBytes(message.AsSpan(Header + payloadLength), Fnv(message.AsSpan(0, Header + payloadLength)));
        return message;
    }

    /// <summary>The sequence number of a whole message, or null when its checksum or length is wrong.</summary>
    public static ulong? Check(ReadOnlySpan<byte> message)
    {
        if (message.Length < Header + Trailer)
            return null;
        var length = BitConverter.ToInt32(message[8..12]);
        if (length < 0 || message.Length != Header + length + Trailer)
            return null;
        return BitConverter.ToUInt64(message[(Header + length)..]) == Fnv(message[..(Header + length)]) ? BitConverter.ToUInt64(message[..8]) : null;
    }

    public static ulong Fnv(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data)
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}

/// <summary>Process-wide resource counts (Linux).</summary>
internal static class Resources
{
    /// <summary>Open fds, not counting assembly files the runtime maps as it loads them (not a leak).</summary>
    public static int OpenFds() => FdTargets().Count(t => !t.EndsWith(".dll", StringComparison.Ordinal));

    private static IEnumerable<string> FdTargets() => System.IO.Directory.GetFiles("/proc/self/fd").Select(f =>
    {
        try
        {
            var target = new FileInfo(f).LinkTarget ?? "?";
            return target.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : target;
        }
        catch (IOException)
        {
            return "?";
        }
    });

    /// <summary>What the open fds are, grouped ("socket" ×n, "anon_inode:[eventfd]" ×n, files), for failure messages.</summary>
    public static string DescribeFds() => string.Join(", ", FdTargets().Where(t => !t.EndsWith(".dll", StringComparison.Ordinal))
        .GroupBy(t => t).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} x{g.Count()}"));

    public static int Threads()
    {
        using var self = Process.GetCurrentProcess();
        return self.Threads.Count;
    }

    public static long ManagedHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        // Live bytes after a full blocking collection (GC.GetTotalMemory was seen to return negative values here).
        var info = GC.GetGCMemoryInfo();
        return info.HeapSizeBytes - info.FragmentedBytes;
    }
}
