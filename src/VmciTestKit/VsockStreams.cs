namespace Vmci.TestKit;

/// <summary>Whole payloads over the seam's connections (<see cref="IVsockConnection"/>), and connected pairs to carry them.</summary>
public static class VsockStreams
{
    /// <summary>Connects <paramref name="client"/> to <paramref name="target"/> and accepts the connection on <paramref name="listener"/>.</summary>
    /// <param name="client">The connecting machine's network.</param>
    /// <param name="listener">The listener that <paramref name="target"/> reaches.</param>
    /// <param name="target">The address to connect to (the listener's CID as the client sees it, and its port).</param>
    /// <param name="cancellationToken">The watchdog's token: cancels the connect and the accept.</param>
    /// <param name="options">The connect's options, or null for the defaults.</param>
    /// <returns>Both ends; dispose the pair (or each end).</returns>
    /// <exception cref="VmciException">The connect or the accept failed.</exception>
    public static async Task<ConnectedPair> ConnectPairAsync(
        IVsockNetwork client, IVsockListener listener, VsockAddress target, CancellationToken cancellationToken, VsockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(listener);
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        var connection = await client.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
        try
        {
            return new ConnectedPair(connection, await accept.WaitAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="count">How many bytes.</param>
    /// <param name="cancellationToken">The watchdog's token.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="VmciAssertionException">The stream ended first.</exception>
    public static async Task<byte[]> ReadExactlyAsync(this IVsockConnection connection, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await connection.ReceiveAsync(result.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new VmciAssertionException($"end of stream after {read} of {count} bytes");
            read += n;
        }
        return result;
    }

    /// <summary>Reads until the end of the stream (the peer shut down sending or closed).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="cancellationToken">The watchdog's token.</param>
    /// <returns>Everything read.</returns>
    public static async Task<byte[]> ReadToEndAsync(this IVsockConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            all.Write(buffer, 0, n);
        return all.ToArray();
    }

    /// <summary>A deterministic pseudo-random payload: the same length and seed give the same bytes.</summary>
    /// <param name="length">Its length in bytes.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The payload.</returns>
    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
#pragma warning disable CA5394 // test data, not security
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }
}

/// <summary>Both ends of one connection: the client's (it connected) and the server's (a listener accepted it).</summary>
/// <param name="Client">The connecting end.</param>
/// <param name="Server">The accepted end.</param>
public sealed record ConnectedPair(IVsockConnection Client, IVsockConnection Server) : IDisposable
{
    /// <summary>Disposes both ends.</summary>
    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
