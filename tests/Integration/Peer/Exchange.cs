using System.Net.Sockets;
using System.Text;
using Vmci;

namespace Integration.Peer;

/// <summary>
/// The byte exchange of the scenarios, shared by the host (the test) and the peers, over a Unix domain
/// socket or a (simulated) vsock connection: the client sends a deterministic payload and shuts down its
/// sending side; the server reads to the end and answers with <c>from IDENTITY\n</c> followed by every
/// byte it received, then shuts down its sending side.
/// </summary>
public static class Exchange
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
        return await ServeAsync(Wrap(connection), identity, ct);
    }

    /// <summary>Serves one exchange on an accepted vsock <paramref name="connection"/>.</summary>
    /// <param name="connection">The accepted connection.</param>
    /// <param name="identity">The server's identity, sent first in the reply.</param>
    /// <param name="ct">Cancels the exchange.</param>
    /// <returns>The bytes received and the number of bytes sent.</returns>
    public static Task<(byte[] Received, int Sent)> ServeAsync(IVsockConnection connection, string identity, CancellationToken ct) =>
        ServeAsync(Wrap(connection), identity, ct);

    /// <summary>Connects to <paramref name="path"/>, sends <paramref name="payload"/> and reads the reply.</summary>
    /// <param name="path">The server's socket file.</param>
    /// <param name="payload">The bytes to send.</param>
    /// <param name="ct">Cancels the exchange.</param>
    /// <returns>Every byte of the reply.</returns>
    public static async Task<byte[]> ExchangeAsync(string path, byte[] payload, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
        return await ExchangeAsync(Wrap(socket), payload, ct);
    }

    /// <summary>Sends <paramref name="payload"/> on a connected vsock <paramref name="connection"/> and reads the reply.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="payload">The bytes to send.</param>
    /// <param name="ct">Cancels the exchange.</param>
    /// <returns>Every byte of the reply.</returns>
    public static Task<byte[]> ExchangeAsync(IVsockConnection connection, byte[] payload, CancellationToken ct) =>
        ExchangeAsync(Wrap(connection), payload, ct);

    private static async Task<(byte[] Received, int Sent)> ServeAsync(Duplex connection, string identity, CancellationToken ct)
    {
        var received = await ReadToEndAsync(connection, ct);
        var reply = Reply(received, identity);
        await SendAllAsync(connection, reply, ct);
        connection.ShutdownSend();
        return (received, reply.Length);
    }

    private static async Task<byte[]> ExchangeAsync(Duplex connection, byte[] payload, CancellationToken ct)
    {
        await SendAllAsync(connection, payload, ct);
        connection.ShutdownSend();
        return await ReadToEndAsync(connection, ct);
    }

    private static async Task SendAllAsync(Duplex connection, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        for (var offset = 0; offset < data.Length;)
        {
            var chunk = data.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
            offset += await connection.SendAsync(chunk, ct);
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Duplex connection, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkSize];
        int n;
        while ((n = await connection.ReceiveAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static Duplex Wrap(Socket socket) => new(
        (buffer, ct) => socket.ReceiveAsync(buffer, SocketFlags.None, ct),
        (data, ct) => socket.SendAsync(data, SocketFlags.None, ct),
        () => socket.Shutdown(SocketShutdown.Send));

    private static Duplex Wrap(IVsockConnection connection) => new(
        connection.ReceiveAsync,
        async (data, ct) =>
        {
            await connection.SendAsync(data, ct);
            return data.Length;
        },
        connection.ShutdownSend);

    /// <summary>The three operations the exchange needs, over either kind of connection.</summary>
    private sealed record Duplex(
        Func<Memory<byte>, CancellationToken, ValueTask<int>> ReceiveAsync,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<int>> SendAsync,
        Action ShutdownSend);
}
