using Vmci;

namespace Conformance.Support;

/// <summary>Reading and writing whole payloads over an <see cref="IVsockConnection"/>.</summary>
public static class StreamHelpers
{
    /// <summary>Reads until end of stream and returns everything read.</summary>
    public static async Task<byte[]> ReadToEndAsync(this IVsockConnection connection, CancellationToken ct)
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer, ct)) > 0)
            all.Write(buffer, 0, n);
        return all.ToArray();
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails on a premature end of stream.</summary>
    public static async Task<byte[]> ReadExactlyAsync(this IVsockConnection connection, int count, CancellationToken ct)
    {
        var result = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await connection.ReceiveAsync(result.AsMemory(read), ct);
            Assert.True(n > 0, $"end of stream after {read} of {count} bytes");
            read += n;
        }
        return result;
    }

    /// <summary>A deterministic pseudo-random payload.</summary>
    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
