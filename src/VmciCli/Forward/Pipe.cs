using System.Net.Sockets;

namespace Vmci.Cli.Forward;

/// <summary>One end of a forwarded connection: a TCP or Unix socket, or a vsock connection.</summary>
internal interface IStreamEnd : IDisposable
{
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct);

    ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct);

    /// <summary>The half-close: the peer reads end of stream, and may still send.</summary>
    void ShutdownSend();
}

/// <summary>A TCP or Unix stream socket.</summary>
internal sealed class SocketEnd(Socket socket) : IStreamEnd
{
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct) => socket.ReceiveAsync(buffer, SocketFlags.None, ct);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
            buffer = buffer[await socket.SendAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false)..];
    }

    public void ShutdownSend() => socket.Shutdown(SocketShutdown.Send);

    public void Dispose() => socket.Dispose();
}

/// <summary>A vsock connection of either backend.</summary>
internal sealed class VsockEnd(IVsockConnection connection) : IStreamEnd
{
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct) => connection.ReceiveAsync(buffer, ct);

    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct) => connection.SendAsync(buffer, ct);

    public void ShutdownSend() => connection.ShutdownSend();

    public void Dispose() => connection.Dispose();
}

/// <summary>Copies both ways between two ends until both have half-closed (socat's default), propagating each half-close.</summary>
internal static class Pipe
{
    private const int BufferSize = 64 * 1024;

    /// <summary>Runs both directions; when one fails (a reset), the other is cancelled, and both ends are closed.</summary>
    /// <returns>The bytes copied each way: a to b, b to a.</returns>
    public static async Task<(long AToB, long BToA)> RunAsync(IStreamEnd a, IStreamEnd b, CancellationToken ct)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var up = CopyAsync(a, b, failed);
        var down = CopyAsync(b, a, failed);
        try
        {
            return (await up.ConfigureAwait(false), await down.ConfigureAwait(false));
        }
        finally
        {
            await failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(up, down).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private static async Task<long> CopyAsync(IStreamEnd from, IStreamEnd to, CancellationTokenSource failed)
    {
        var buffer = new byte[BufferSize];
        long total = 0;
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, failed.Token).ConfigureAwait(false)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), failed.Token).ConfigureAwait(false);
                total += n;
            }
            to.ShutdownSend();
            return total;
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }
}
