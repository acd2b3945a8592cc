using System.Globalization;
using System.Net.Sockets;
using Vmci.Sim.Internal;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// The per-machine gateway of a real guest: a Unix socket at <c>&lt;fabric&gt;/&lt;cid&gt;/gateway</c>. A fabric
/// connector that finds no socket file for the port it wants (<see cref="SimNetwork"/> falls back to the gateway) sends
/// the usual <c>VMCI1</c> request here; the gateway checks it the way a listener does (the request's form and address,
/// and that the connector holds the CID it claims) and hands it to the device, which
/// asks the guest and answers <c>OK 000</c> (the guest accepted) or <c>ER 104</c> (nobody listens in the guest).
/// Malformed, slow or excess handshakes are refused without disturbing the device.
/// </summary>
internal sealed class Gateway : IDisposable
{
    /// <summary>How many handshakes may wait for their request at once; more are closed at once.</summary>
    internal const int MaxPendingHandshakes = 64;

    private readonly Socket _socket;
    private readonly FabricLayout _layout;
    private readonly string _path;
    private readonly uint _cid;
    private readonly CancellationTokenSource _closing = new();
    private readonly Thread _acceptThread;
    private volatile DeviceCore? _device;
    private int _pending;
    private int _disposed;

    private Gateway(Socket socket, FabricLayout layout, string path, uint cid)
    {
        _socket = socket;
        _layout = layout;
        _path = path;
        _cid = cid;
        // Out of descriptors, it frees none of its own: it holds at most MaxPendingHandshakes pending handshakes.
        _acceptThread = BlockingAccept.Start($"vhost-user gateway CID {cid}", _socket.Accept, Answer, static () => false, _closing.Token);
    }

    /// <summary>How long a connector may take to send its request line.</summary>
    internal static TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The gateway's socket file.</summary>
    public string Path => _path;

    /// <summary>The accept thread (tests check it ends).</summary>
    internal Thread AcceptThread => _acceptThread;

    /// <summary>The device that answers requests; null while no front-end is connected (requests are refused: the guest is down).</summary>
    public DeviceCore? Device
    {
        get => _device;
        set => _device = value;
    }

    /// <summary>Claims machine <paramref name="cid"/> of the fabric: binds its gateway, reclaiming a stale one.</summary>
    /// <exception cref="VmciException">EADDRINUSE when a live device serves the CID.</exception>
    public static Gateway Bind(FabricLayout layout, uint cid)
    {
        var path = layout.GatewayPath(cid);
        var socket = SocketFiles.TryBind(path, cid, layout.Access);
        if (socket is null)
        {
            var owner = SocketFiles.ReadBound(path + ".bound") is { } bound ? $" (process {bound.ProcessId})" : "";
            throw DeviceErrors.Start(Errno.EADDRINUSE, path, $"CID {cid} is already served by a vhost-user device{owner}");
        }
        return new Gateway(socket, layout, path, cid);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _closing.Cancel();
        SocketFiles.Release(_socket); // its file and .bound go first, and only if they are still this gateway's
        _closing.Dispose();
    }

    /// <summary>Takes a connection from the accept thread: closed at once beyond <see cref="MaxPendingHandshakes"/>.</summary>
    private void Answer(Socket client)
    {
        if (Interlocked.Increment(ref _pending) > MaxPendingHandshakes)
        {
            Interlocked.Decrement(ref _pending);
            client.Dispose();
            return;
        }
        _ = AnswerAsync(client);
    }

    private async Task AnswerAsync(Socket client)
    {
        var handedOver = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
            timeout.CancelAfter(HandshakeTimeout);
            var buffer = new byte[Handshake.MaxRequestBytes];
            var length = 0;
            while (buffer.AsSpan(0, length).IndexOf((byte)'\n') < 0)
            {
                if (length == buffer.Length)
                {
                    Refuse(client, Errno.EINVAL);
                    return;
                }
                var read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                    return; // truncated: the connector went away
                length += read;
            }
            var newline = buffer.AsSpan(0, length).IndexOf((byte)'\n');
            if (newline != length - 1)
            {
                Refuse(client, Errno.EINVAL); // nothing may follow the request: the connector waits for the answer
                return;
            }
            if (Handshake.TryParseRequest(buffer.AsSpan(0, length), out var request) is { } invalid)
            {
                Refuse(client, invalid);
                return;
            }
            // As a listener checks (__vsock_find_bound_socket): addressed to this machine, or to CID 1 from itself.
            var destination = request.Destination;
            var own = destination.Cid == _cid || (destination.Cid == VmciCid.Local && request.Source.Cid == VmciCid.Local);
            if (!own || _device is not { } device)
            {
                Refuse(client, Errno.ECONNRESET);
                return;
            }
            // As a listener checks: the connector holds the CID it claims (the guest's accept reports that CID).
            var source = request.Source.Cid == VmciCid.Local ? _cid : request.Source.Cid;
            if (_layout.CheckConnector(client, source) is { } denied)
            {
                Refuse(client, denied);
                return;
            }
            device.Accept(client, request);
            handedOver = true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Slow, vanished or shut down: drop this one connection only.
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
            if (!handedOver)
                client.Dispose();
        }
    }

    private static void Refuse(Socket client, Errno errno)
    {
        try
        {
            client.Send(Handshake.FormatReply(errno), SocketFlags.None);
        }
        catch (SocketException)
        {
            // The connector is gone.
        }
    }

    /// <summary>For messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"gateway of CID {_cid} at {_path}");
}
