using System.Net.Sockets;
using System.Text;

namespace Integration.Peer;

/// <summary>
/// The byte exchange of the first scenario, shared by the host (the test) and the peers: the client
/// sends a deterministic payload and shuts down its sending side; the server reads to the end and
/// answers with <c>from IDENTITY\n</c> followed by every byte it received, then closes.
/// </summary>
public static class UdsExchange
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>The payload of <paramref name="size"/> bytes a client sends (the same on every side).</summary>
    /// <param name="size">Number of bytes.</param>
    /// <returns>The payload.</returns>
    public static byte[] Payload(int size)
    {
        var payload = new byte[size];
        for (var i = 0; i < size; i++)
        {
            payload[i] = (byte)((i * 31) + 7);
        }

        return payload;
    }

    /// <summary>The reply a server with <paramref name="identity"/> sends for <paramref name="received"/>.</summary>
    /// <param name="received">The bytes the server received.</param>
    /// <param name="identity">The server's identity, e.g. <c>cid 3</c>.</param>
    /// <returns>The reply.</returns>
    public static byte[] Reply(ReadOnlySpan<byte> received, string identity) =>
        [.. Encoding.UTF8.GetBytes($"from {identity}\n"), .. received];

    /// <summary>The identity of a peer with VMCI context ID <paramref name="cid"/>.</summary>
    /// <param name="cid">The context ID.</param>
    /// <returns>The identity, e.g. <c>cid 3</c>.</returns>
    public static string Identity(uint cid) => $"cid {cid}";

    /// <summary>Creates a listening Unix domain stream socket at <paramref name="path"/>.</summary>
    /// <param name="path">The socket file to create.</param>
    /// <returns>The listening socket; the caller disposes it and deletes the file.</returns>
    public static Socket Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Accepts one connection on <paramref name="listener"/> and serves it.</summary>
    /// <param name="listener">A listening socket.</param>
    /// <param name="identity">The server's identity, sent first in the reply.</param>
    /// <param name="ct">Cancels the exchange.</param>
    /// <returns>The bytes received and the number of bytes sent.</returns>
    public static async Task<(byte[] Received, int Sent)> ServeOnceAsync(Socket listener, string identity, CancellationToken ct)
    {
        using var connection = await listener.AcceptAsync(ct);
        var received = await ReadToEndAsync(connection, ct);
        var reply = Reply(received, identity);
        await SendAllAsync(connection, reply, ct);
        connection.Shutdown(SocketShutdown.Send);
        return (received, reply.Length);
    }

    /// <summary>Connects to <paramref name="path"/>, sends <paramref name="payload"/> and reads the reply.</summary>
    /// <param name="path">The server's socket file.</param>
    /// <param name="payload">The bytes to send.</param>
    /// <param name="ct">Cancels the exchange.</param>
    /// <returns>Every byte of the reply.</returns>
    public static async Task<byte[]> ExchangeAsync(string path, byte[] payload, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
        await SendAllAsync(socket, payload, ct);
        socket.Shutdown(SocketShutdown.Send);
        return await ReadToEndAsync(socket, ct);
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        for (var offset = 0; offset < data.Length;)
        {
            var chunk = data.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
            offset += await socket.SendAsync(chunk, SocketFlags.None, ct);
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkSize];
        int n;
        while ((n = await socket.ReceiveAsync(chunk, SocketFlags.None, ct)) > 0)
        {
            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
