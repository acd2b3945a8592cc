using System.Buffers;
using System.Net.Sockets;

namespace Vmci.Transport.Internal;

/// <summary>
/// One vmci connection paired with one loopback TCP connection (or, in direct mode's pumped path, one end of a Unix
/// socket pair that NetMQ's engine drives), bytes copied both ways unchanged. When the connection hands its socket over
/// (<see cref="IVsockDetachable"/>), both sockets complete inline on .NET's epoll thread: the relay variant measured best
/// (design note), one thread-pool hop fewer per direction and hop. Each direction is one loop: wait for data, copy at
/// most <see cref="ChunkSize"/> bytes, send them all before reading again — so a slow receiver stalls the sender
/// (back-pressure) and the relay never holds more than one chunk per direction (in a burst, one pipe-full in the
/// kernel). The TCP side waits with a zero-byte read and rents its chunk only while data is there; the vsock side waits
/// in a 1 KiB buffer and rents its chunk only while reads fill it, so an idle connection holds 1 KiB, not 128 KiB. End
/// of stream is forwarded as a half-close; an error on either side resets both.
/// <para>
/// A burst — <see cref="SpliceAfter"/> reads in a row that fill the chunk — of a handed-over socket continues in the
/// kernel (<see cref="SpliceBurst"/>) until the source has nothing more for now; then the direction waits as before.
/// Splicing needs a source that can wait with a zero-byte read (TCP or Unix; not vsock, see above). Measured at 1 MiB
/// messages: CPU per message 1.44-1.70x NetMQ tcp instead of 1.67-1.86x, throughput 0.64-0.70x instead of 0.59-0.63x
/// (docs/performance.md); splicing shorter bursts made 64 KiB messages dearer, so they are copied as before.
/// </para>
/// </summary>
internal sealed class RelayPair : IDisposable
{
    /// <summary>The copy chunk size: 64 KiB, rented from the shared pool.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>The buffer an idle vsock-to-tcp direction waits in (see <see cref="VsockToTcpAsync"/>).</summary>
    public const int IdleBufferSize = 1024;

    /// <summary>Full chunks in a row after which a direction splices: 4 (256 KiB).</summary>
    public const int SpliceAfter = 4;

    private readonly Socket _tcp;
    private readonly IVsockConnection _vsock;
    private readonly Action<RelayPair> _onClosed;
    private readonly Socket? _vsockSocket;
    private readonly IVsockTrafficGate? _gate;
    private bool _spliceUp;
    private bool _spliceDown;
    private long _fromPeer;
    private long _spliced;
    private int _closed;

    /// <param name="tcp">The NetMQ side.</param>
    /// <param name="vsock">The vmci connection.</param>
    /// <param name="onClosed">Runs once when both are closed.</param>
    /// <param name="takeSocket">Take the connection's socket over when it allows (inline completions); false keeps its own I/O (faults).</param>
    public RelayPair(Socket tcp, IVsockConnection vsock, Action<RelayPair> onClosed, bool takeSocket = false)
    {
        _tcp = tcp;
        Vsock = vsock;
        _vsock = vsock;
        _onClosed = onClosed;
        if (takeSocket && vsock is IVsockDetachable detachable && detachable.TryDetachSocket(out var socket))
        {
            _vsock = new SocketConnection(vsock, socket);
            _vsockSocket = socket;
            _gate = vsock as IVsockTrafficGate;
            _spliceUp = tcp.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 or AddressFamily.Unix;
            _spliceDown = socket.AddressFamily == AddressFamily.Unix;
            Direct.NetMQInternals.PreferInlineCompletions(socket);
            Direct.NetMQInternals.PreferInlineCompletions(tcp);
        }
    }

    /// <summary>The vsock side (tests read its options back).</summary>
    public IVsockConnection Vsock { get; }

    /// <summary>Bytes received from the vmci peer so far (the relay's greeting bound reads it).</summary>
    public long BytesFromPeer => Interlocked.Read(ref _fromPeer);

    /// <summary>Bytes moved in the kernel so far, both directions (tests read it).</summary>
    public long SplicedBytes => Interlocked.Read(ref _spliced);

    /// <summary>True once the pair is closed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Completes when both directions have finished and both sockets are closed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Completes when everything NetMQ wrote (up to its end of stream) has been sent on vsock.</summary>
    public Task Upstream { get; private set; } = Task.CompletedTask;

    /// <summary>Starts both pumps.</summary>
    public void Start()
    {
        if (_tcp.ProtocolType == ProtocolType.Tcp)
            _tcp.NoDelay = true;
        var up = Upstream = Task.Run(TcpToVsockAsync);
        var down = Task.Run(VsockToTcpAsync);
        Completion = Task.WhenAll(up, down).ContinueWith(_ => Close(abort: false), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Resets both connections (unbind, disconnect, socket disposal, or an error on either side).</summary>
    public void Abort() => Close(abort: true);

    /// <summary>The same as <see cref="Abort"/>.</summary>
    public void Dispose() => Abort();

    private async Task TcpToVsockAsync()
    {
        try
        {
            for (var full = 0; ;) // reads in a row that filled the chunk
            {
                // Zero-byte read: wait for data without holding a buffer (skipped while reads fill the chunk).
                if (full == 0)
                    await _tcp.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
                try
                {
                    var n = await _tcp.ReceiveAsync(chunk.AsMemory(0, ChunkSize), SocketFlags.None).ConfigureAwait(false);
                    if (n == 0)
                    {
                        _vsock.ShutdownSend();
                        return;
                    }
                    await _vsock.SendAsync(chunk.AsMemory(0, n)).ConfigureAwait(false);
                    full = n == ChunkSize ? full + 1 : 0;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                }
                if (full >= SpliceAfter && _spliceUp)
                {
                    switch (await SpliceAsync(_tcp, _vsockSocket!, fromPeer: false).ConfigureAwait(false))
                    {
                        case SpliceBurst.Result.Ended:
                            _vsock.ShutdownSend();
                            return;
                        case SpliceBurst.Result.Drained:
                            full = 0;
                            break;
                        default:
                            _spliceUp = false;
                            break;
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or VmciException or ObjectDisposedException)
        {
            Abort();
        }
    }

    private async Task VsockToTcpAsync()
    {
        // A vsock socket cannot wait with a zero-byte read (Linux vsock returns 0 at once for an empty buffer),
        // so an idle direction waits in a small buffer of its own and rents the big chunk only while data keeps
        // coming: a read that fills the small buffer, or the chunk, means more is probably queued.
        var small = new byte[IdleBufferSize];
        try
        {
            while (true)
            {
                var n = await _vsock.ReceiveAsync(small).ConfigureAwait(false);
                Interlocked.Add(ref _fromPeer, n);
                if (n == 0)
                {
                    _tcp.Shutdown(SocketShutdown.Send);
                    return;
                }
                await SendAllAsync(small.AsMemory(0, n)).ConfigureAwait(false);
                if (n == small.Length && await DrainAsync().ConfigureAwait(false))
                    return;
            }
        }
        catch (Exception e) when (e is SocketException or VmciException or ObjectDisposedException)
        {
            Abort();
        }
    }

    /// <summary>Copies vsock to tcp through a rented chunk while reads fill it; true at end of stream.</summary>
    private async Task<bool> DrainAsync()
    {
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (var full = 1; ; full++) // reads in a row that filled the chunk
            {
                var n = await _vsock.ReceiveAsync(chunk.AsMemory(0, ChunkSize)).ConfigureAwait(false);
                Interlocked.Add(ref _fromPeer, n);
                if (n == 0)
                {
                    _tcp.Shutdown(SocketShutdown.Send);
                    return true;
                }
                await SendAllAsync(chunk.AsMemory(0, n)).ConfigureAwait(false);
                if (n < ChunkSize)
                    return false;
                if (full >= SpliceAfter && _spliceDown)
                {
                    switch (await SpliceAsync(_vsockSocket!, _tcp, fromPeer: true).ConfigureAwait(false))
                    {
                        case SpliceBurst.Result.Ended:
                            _tcp.Shutdown(SocketShutdown.Send);
                            return true;
                        case SpliceBurst.Result.Drained:
                            return false;
                        default:
                            _spliceDown = false;
                            break;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Splices a burst from <paramref name="from"/> to <paramref name="to"/>, counting it (and bytes from the peer).</summary>
    private Task<SpliceBurst.Result> SpliceAsync(Socket from, Socket to, bool fromPeer) =>
        new SpliceBurst(from, to, _gate, received: fromPeer, Vsock.RemoteAddress.ToString(), moved =>
        {
            Interlocked.Add(ref _spliced, moved);
            if (fromPeer)
                Interlocked.Add(ref _fromPeer, moved);
        }).RunAsync();

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
            data = data[await _tcp.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
    }

    private void Close(bool abort)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        if (abort)
        {
            _vsock.Abort();
            try
            {
                // Linger 0: close sends RST, so NetMQ sees a reset rather than an orderly end.
                _tcp.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
        _vsock.Dispose();
        _tcp.Dispose();
        _onClosed(this);
    }
}
