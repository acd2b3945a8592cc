using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Vmci.TestKit.Agent;

/// <summary>
/// Deterministic test bytes that both machines can make without sending them: byte <c>i</c> of the payload of
/// <c>seed</c> is a function of (seed, i) alone (SplitMix64 per 8-byte word), so a payload is produced and checked in
/// chunks of any size, and compared by length and SHA-256.
/// </summary>
public static class PayloadStream
{
    /// <summary>Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/> of the payload of <paramref name="seed"/>.</summary>
    /// <param name="seed">The payload's seed.</param>
    /// <param name="offset">The offset of the first byte.</param>
    /// <param name="destination">Where the bytes go.</param>
    public static void Fill(int seed, long offset, Span<byte> destination)
    {
        Span<byte> word = stackalloc byte[8];
        var i = 0;
        while (i < destination.Length)
        {
            var position = offset + i;
            BinaryPrimitives.WriteUInt64LittleEndian(word, Mix(((ulong)(uint)seed << 40) ^ (ulong)(position / 8)));
            var start = (int)(position % 8);
            var n = Math.Min(8 - start, destination.Length - i);
            word.Slice(start, n).CopyTo(destination[i..]);
            i += n;
        }
    }

    /// <summary>The whole payload of <paramref name="size"/> bytes (for sizes that fit in memory).</summary>
    /// <param name="size">Its length.</param>
    /// <param name="seed">Its seed.</param>
    public static byte[] Create(int size, int seed)
    {
        var bytes = new byte[size];
        Fill(seed, 0, bytes);
        return bytes;
    }

    /// <summary>The SHA-256 (lower-case hex) of the payload of <paramref name="size"/> bytes from <paramref name="seed"/>.</summary>
    /// <param name="size">Its length.</param>
    /// <param name="seed">Its seed.</param>
    public static string Sha256(long size, int seed)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[64 * 1024];
        for (long done = 0; done < size;)
        {
            var n = (int)Math.Min(chunk.Length, size - done);
            Fill(seed, done, chunk.AsSpan(0, n));
            hash.AppendData(chunk, 0, n);
            done += n;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
