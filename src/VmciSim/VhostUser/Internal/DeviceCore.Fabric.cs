using System.Buffers;
using System.Net.Sockets;
using Vmci.Sim.Internal;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>The fabric side: connects, reads and sends as async operations whose results come back to the device thread.</summary>
internal sealed partial class DeviceCore
{
    private static readonly byte[] Accepted = Handshake.FormatReply(null);

    /// <summary>A result for the device thread.</summary>
    private abstract record Posted;

    private sealed record ConnectResult(VsockConnection Connection, SimConnection? Fabric, VmciException? Error) : Posted;

    private sealed record ReceiveResult(VsockConnection Connection, byte[] Buffer, int Count, VmciException? Error) : Posted;

    private sealed record SendResult(VsockConnection Connection, Chunk Chunk, int Count, VmciException? Error) : Posted;

    private sealed record InboundRequest(Socket Socket, Handshake.Request Request) : Posted;

    /// <summary>
    /// A fabric connector reached the gateway with a valid request for this guest (called on the gateway's threads):
    /// the device asks the guest (REQUEST) and answers the connector from the guest's RESPONSE or RST.
    /// </summary>
    public void Accept(Socket socket, Handshake.Request request) => Post(new InboundRequest(socket, request));

    private void Handle(Posted item)
    {
        switch (item)
        {
            case ConnectResult r:
                Connected(r);
                break;
            case ReceiveResult r:
                Received(r.Connection, r.Buffer, r.Count, r.Error);
                break;
            case SendResult r:
                Sent(r);
                break;
            case InboundRequest r:
                Inbound(r.Socket, r.Request);
                break;
        }
    }

    private void ReleasePosted()
    {
        while (_posted.TryDequeue(out var item))
        {
            switch (item)
            {
                case ConnectResult r:
                    r.Fabric?.Dispose();
                    break;
                case ReceiveResult r:
                    ArrayPool<byte>.Shared.Return(r.Buffer);
                    break;
                case SendResult r:
                    ArrayPool<byte>.Shared.Return(r.Chunk.Data);
                    break;
                case InboundRequest r:
                    Refuse(r.Socket, Errno.ECONNRESET);
                    break;
            }
        }
    }

    /// <summary>The guest's REQUEST, on the fabric: the fabric's rules (topology, faults, listeners) decide.</summary>
    private void StartConnect(VsockConnection c, VsockAddress remote)
    {
        var token = _teardown.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                var fabric = await _network.ConnectFromAsync(c.Key.GuestPort, remote, token).ConfigureAwait(false);
                Post(new ConnectResult(c, fabric, null));
            }
            catch (VmciException e)
            {
                Post(new ConnectResult(c, null, e));
            }
            catch (Exception e)
            {
                Post(new ConnectResult(c, null, DeviceErrors.Fabric(_cid, e)));
            }
        }, CancellationToken.None);
    }

    private void Connected(ConnectResult r)
    {
        var c = r.Connection;
        if (c.State != ConnectionState.Connecting)
        {
            r.Fabric?.Dispose(); // the guest gave up (RST) meanwhile
            return;
        }
        if (r.Fabric is null)
        {
            Reset(c, r.Error?.Message);
            return;
        }
        c.Fabric = r.Fabric;
        c.State = ConnectionState.Connected;
        EnqueueControl(c, VsockOp.Response);
        StartRead(c);
    }

    /// <summary>A connector at the gateway: a REQUEST to the guest, from the connector's own (cid, port).</summary>
    private void Inbound(Socket socket, Handshake.Request request)
    {
        var key = new ConnectionKey(request.Destination.Port, request.Source.Cid, request.Source.Port);
        if (_connections.Count >= _settings.MaxConnections)
        {
            Log($"{key}: refused, the guest has {_connections.Count} connections (the per-guest cap)");
            Refuse(socket, Errno.ECONNRESET);
            return;
        }
        if (_connections.ContainsKey(key))
        {
            Log($"{key}: refused, a connection with these addresses exists");
            Refuse(socket, Errno.ECONNRESET);
            return;
        }
        var c = new VsockConnection(key, request.Destination.Cid, ConnectionState.Accepting)
        {
            PendingInbound = socket,
            InboundRequest = request,
            AcceptDeadline = Environment.TickCount64 + (long)_settings.AcceptTimeout.TotalMilliseconds,
            GuestBufferAllocation = 0,
        };
        _connections.Add(key, c);
        _accepting.Add(c);
        Statistics.Connections++;
        EnqueueControl(c, VsockOp.Request);
    }

    /// <summary>The guest's RESPONSE to an inbound REQUEST: the connector's handshake succeeds.</summary>
    private void CompleteInbound(VsockConnection c)
    {
        var socket = c.PendingInbound!;
        c.PendingInbound = null;
        _accepting.Remove(c);
        try
        {
            socket.Send(Accepted, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            Reset(c, "the connector went away before the guest accepted");
            return;
        }
        var request = c.InboundRequest;
        var peerMachine = request.Source.Cid == VmciCid.Local ? _cid : request.Source.Cid;
        c.Fabric = new SimConnection(socket, request.Destination, request.Source, new VsockBufferModel(), _network.Fabric.FaultState, _cid, peerMachine, accepted: true);
        c.State = ConnectionState.Connected;
        StartRead(c);
    }

    /// <summary>Closes a connection: its fabric end, a connector still waiting (answered <paramref name="answer"/>), its buffers.</summary>
    private void Close(VsockConnection c, Errno answer)
    {
        if (c.State == ConnectionState.Closed)
            return;
        c.State = ConnectionState.Closed;
        _connections.Remove(c.Key);
        _accepting.Remove(c);
        _waiting.Remove(c);
        c.WaitingToRead = c.WaitingToWrite = false;
        if (c.PendingInbound is { } socket)
        {
            c.PendingInbound = null;
            Refuse(socket, answer);
        }
        c.Fabric?.Dispose();
        c.ReleaseIdleBuffers();
    }

    private static void Refuse(Socket socket, Errno errno)
    {
        try
        {
            socket.Send(Handshake.FormatReply(errno), SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connector is gone: nothing to tell.
        }
        socket.Dispose();
    }
}
