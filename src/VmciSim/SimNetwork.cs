using System.Net.Sockets;
using Vmci.Sim.Internal;
using Vmci.Sim.Unix;

namespace Vmci.Sim;

/// <summary>
/// One simulated machine's view of a <see cref="SimFabric"/>: the vsock backend seam implemented over Unix domain
/// sockets, with the kernel's observable rules (SPEC §5, §7). Obtain it from <see cref="SimFabric.Join"/> or
/// <see cref="SimSettings.Join"/>.
/// </summary>
public sealed class SimNetwork : IVsockNetwork
{
    /// <summary>How long a connect waits in place for the listener's answer before waiting asynchronously.</summary>
    private const int ReplyGraceMicroseconds = 1000;

    private readonly FabricLayout _layout;

    internal SimNetwork(SimFabric fabric, uint cid)
    {
        Fabric = fabric;
        LocalCid = cid;
        _layout = fabric.Layout;
    }

    /// <summary>The fabric this machine belongs to.</summary>
    public SimFabric Fabric { get; }

    /// <summary>This machine's CID.</summary>
    public uint LocalCid { get; }

    /// <inheritdoc/>
    public string Name => "sim";

    /// <inheritdoc/>
    /// <remarks>After a CID change fault (a VM restored under another CID) this is the new CID.</remarks>
    public uint GetLocalCid() => Machine;

    /// <summary>This machine's CID now: <see cref="LocalCid"/> after any CID change fault.</summary>
    private uint Machine
    {
        get
        {
            var faults = Fabric.FaultState;
            return faults.Active ? faults.Current.Resolve(LocalCid) : LocalCid;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The machine has one port space: a port bound through CID any, the machine's CID or CID 1 is taken for all
    /// three (the kernel would let (own CID, p) and (1, p) coexist). Reachability still follows the kernel: a
    /// listener bound to CID 1 is reached only through CID 1, one bound to the machine's CID only through it.
    /// </remarks>
    public IVsockListener Listen(VsockAddress address, VsockOptions? options = null, int backlog = 128)
    {
        var endpoint = address.ToString();
        Fabric.FaultState.Refresh();
        var localCid = Machine;
        if (address.Cid != VmciCid.Any && address.Cid != localCid && address.Cid != VmciCid.Local)
            throw VmciError.Create(Errno.EADDRNOTAVAIL, VmciOperation.Bind, endpoint,
                $"CID {address.Cid} is not local (this machine is CID {localCid}; bind to *, {localCid} or 1)");
        if (File.Exists(_layout.GatewayPath(localCid)) && SocketFiles.ProbeFile(_layout.GatewayPath(localCid)) == SocketFiles.Probe.Live)
            throw VmciError.Create(Errno.EADDRNOTAVAIL, VmciOperation.Bind, endpoint,
                $"CID {localCid} is a real guest served by a vhost-user device: its ports are bound inside the guest");
        var model = OptionsModel(options);
        var machineDirectory = _layout.MachineDirectory(localCid);
        if (FabricAccess.CheckMachine(machineDirectory, localCid) is { } refusal)
            throw refusal(VmciOperation.Bind);
        StalePruner.BeforeBind(machineDirectory);
        if (address.Port != VmciPort.Any)
        {
            if (address.Port <= VmciPort.LastReserved && !Fabric.CanBindPrivilegedPorts())
                throw VmciError.Create(Errno.EACCES, VmciOperation.Bind, endpoint,
                    $"port {address.Port} is at most {VmciPort.LastReserved} and the process lacks CAP_NET_BIND_SERVICE");
            var socket = SocketFiles.TryBind(_layout, localCid, address.Port, address.Cid)
                ?? throw VmciError.Create(Errno.EADDRINUSE, VmciOperation.Bind, endpoint, $"port {address.Port} of CID {localCid} is already bound");
            return new SimListener(socket, _layout, localCid, address, model, backlog, Fabric.FaultState, () => Fabric.Topology);
        }
        for (var i = 0; i < PortAllocator.MaxRetries; i++)
        {
            var port = Fabric.Ports.Next();
            if (SocketFiles.TryBind(_layout, localCid, port, address.Cid) is { } socket)
                return new SimListener(socket, _layout, localCid, address with { Port = port }, model, backlog, Fabric.FaultState, () => Fabric.Topology);
        }
        throw VmciError.Create(Errno.EADDRNOTAVAIL, VmciOperation.Bind, endpoint,
            $"no free ephemeral port of CID {localCid} after {PortAllocator.MaxRetries} tries");
    }

    /// <inheritdoc/>
    /// <remarks>
    /// CID 1 reaches this machine. A CID with no machine in the fabric (and 0, any) gives ENODEV; a guest's connection
    /// to another guest under <see cref="SimTopology.Vmware"/> gives ENETUNREACH; nobody listening — or a stale socket
    /// file — gives ECONNRESET; no answer within the connect timeout gives ETIMEDOUT.
    /// </remarks>
    public ValueTask<IVsockConnection> ConnectAsync(VsockAddress remote, VsockOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectLoggedAsync(remote, null, options, cancellationToken);

    /// <summary>
    /// Connects from a given source port of this machine (a vhost-user device carrying a real guest's connection: the
    /// listener must see the guest's own port), with the rules and faults of <see cref="ConnectAsync"/>.
    /// </summary>
    internal async ValueTask<SimConnection> ConnectFromAsync(uint sourcePort, VsockAddress remote, CancellationToken cancellationToken) =>
        (SimConnection)await ConnectLoggedAsync(remote, sourcePort, null, cancellationToken).ConfigureAwait(false);

    private async ValueTask<IVsockConnection> ConnectLoggedAsync(VsockAddress remote, uint? sourcePort, VsockOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            return await ConnectCoreAsync(remote, sourcePort, options, cancellationToken).ConfigureAwait(false);
        }
        catch (VmciException e)
        {
            SimLog.Logger.ConnectFailed(Machine, remote, e.Errno, e.Message);
            throw;
        }
    }

    private async ValueTask<IVsockConnection> ConnectCoreAsync(VsockAddress remote, uint? sourcePort, VsockOptions? options, CancellationToken cancellationToken)
    {
        var endpoint = remote.ToString();
        var model = OptionsModel(options);
        if (cancellationToken.IsCancellationRequested)
            throw VmciError.Create(Errno.ECANCELED, VmciOperation.Connect, endpoint, "cancelled by the caller");
        var faults = Fabric.FaultState;
        var localCid = faults.Refresh().Faults.Count == 0 ? LocalCid : Machine;
        var machine = remote.Cid == VmciCid.Local ? localCid : remote.Cid;
        if (machine is VmciCid.Hypervisor or VmciCid.Any)
            throw VmciError.Create(Errno.ENODEV, VmciOperation.Connect, endpoint, $"no transport reaches CID {remote.Cid}");
        if (faults.Active)
            await ConnectFaultsAsync(faults, localCid, new VsockAddress(machine, remote.Port), endpoint, model, cancellationToken).ConfigureAwait(false);
        if (localCid >= VmciCid.FirstGuest && machine >= VmciCid.FirstGuest && machine != localCid && Fabric.Topology == SimTopology.Vmware)
            throw VmciError.Create(Errno.ENETUNREACH, VmciOperation.Connect, endpoint,
                $"the vmware topology lets guest CID {localCid} reach the host (2) and itself only, not guest {machine}");

        var local = new VsockAddress(remote.Cid == VmciCid.Local ? VmciCid.Local : localCid, sourcePort ?? Fabric.Ports.Next());
        var (socket, bound) = BindConnectorEnd(localCid, endpoint);
        CancellationTokenSource? deadline = null;
        try
        {
            // A non-blocking UDS connect never waits: it succeeds at once while the listener's Unix backlog has room
            // (EAGAIN otherwise, reported as a full backlog), so it is done in place and the connect timeout is spent
            // waiting for the answer.
            socket.Blocking = false;
            ConnectToMachine(ref socket, ref bound, localCid, machine, remote.Port, endpoint);
            socket.Send(Handshake.FormatRequest(local, remote), SocketFlags.None);
            var reply = new byte[Handshake.ReplyBytes];
            var length = 0;
            // The listener's thread answers within microseconds: wait for it briefly in place (a direct wake-up) before
            // paying for a timer and an async receive (epoll thread, then a pool thread).
            if (socket.Poll(ReplyGraceMicroseconds, SelectMode.SelectRead))
                length = socket.Receive(reply, SocketFlags.None);
            while (length < reply.Length)
            {
                if (deadline is null)
                {
                    deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    deadline.CancelAfter(TimeSpan.FromMilliseconds(model.ConnectTimeoutMilliseconds));
                }
                var read = await socket.ReceiveAsync(reply.AsMemory(length), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                    throw VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, "the listener closed the connection during the handshake");
                length += read;
            }
            if (Handshake.ParseReply(reply) is { } refused)
                throw VmciError.Create(refused, VmciOperation.Connect, endpoint, Refusal(refused, localCid, machine, remote));
            // getsockname of a connecting socket: the kernel auto-binds it to (any, ephemeral port) and keeps any.
            return new SimConnection(socket, local with { Cid = VmciCid.Any }, remote, model, faults, localCid, machine, accepted: false);
        }
        catch (Exception e)
        {
            socket.Dispose();
            throw e switch
            {
                VmciException v => v,
                OperationCanceledException when cancellationToken.IsCancellationRequested =>
                    VmciError.Create(Errno.ECANCELED, VmciOperation.Connect, endpoint, "cancelled by the caller", e),
                OperationCanceledException =>
                    VmciError.Create(Errno.ETIMEDOUT, VmciOperation.Connect, endpoint, $"no answer within the connect timeout ({model.ConnectTimeoutMilliseconds} ms)", e),
                SocketException s => ConnectFailure(s, machine, remote, endpoint),
                _ => VmciError.From(e, VmciOperation.Connect, endpoint),
            };
        }
        finally
        {
            deadline?.Dispose();
            if (bound is not null)
                UnixFiles.Unlink(bound); // the listener has checked it (or never will): the name is no longer needed
        }
    }

    /// <summary>
    /// The connector's end of the Unix socket, bound under a random name in this machine's own directory: the listener
    /// reads it (getpeername) to check that this process holds the CID it claims (docs/security.md). Removed once the
    /// listener has answered. On an OS without those checks, an unbound socket.
    /// </summary>
    private (Socket Socket, string? Bound) BindConnectorEnd(uint localCid, string endpoint)
    {
        if (!UnixFiles.IsStrict)
            return (new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), null);
        var directory = _layout.MachineDirectory(localCid);
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(directory, UnixFiles.TemporaryName('c'));
            if (UnixSockets.TryCreateBound(path, backlog: null, out var errno) is { } socket)
                return (socket, path);
            if (errno == Interop.EADDRINUSE && attempt < 8)
                continue;
            if (FabricAccess.CheckMachine(directory, localCid) is { } refusal)
                throw refusal(VmciOperation.Connect);
            throw VmciError.FromErrno(errno, VmciOperation.Connect, endpoint, $"cannot bind the connector's end in the directory of machine {localCid} ({directory})");
        }
    }

    /// <summary>What a refusal by the listener means, by its errno.</summary>
    private static string Refusal(Errno errno, uint source, uint machine, VsockAddress remote) => errno switch
    {
        Errno.ECONNRESET => $"nobody listens on port {remote.Port} of CID {remote.Cid} (or its backlog is full, or CID {machine} refuses new connections: simulator fault refuse)",
        Errno.ENETUNREACH => $"the listener enforces the vmware topology: guest CID {source} reaches the host (2) and itself only, not guest {machine}",
        Errno.EPERM => $"the listener could not verify that this process holds CID {source} (its end of the socket must be bound in the directory of machine {source}, a real directory of this user)",
        _ => "refused by the listener",
    };

    /// <summary>
    /// Refuse: ECONNRESET at once (the kernel's RST). Partition or pause: the request is lost, so the connect waits
    /// — until the fault is cleared (it then goes on) or the connect timeout (ETIMEDOUT).
    /// </summary>
    private static async ValueTask ConnectFaultsAsync(FaultState faults, uint source, VsockAddress service, string endpoint, VsockBufferModel model, CancellationToken cancellationToken)
    {
        if (faults.Current.IsRefused(source, service))
            throw VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"CID {service.Cid} refuses new connections to port {service.Port} (simulator fault refuse)");
        if (!faults.Current.IsStalled(source, service.Cid, service))
            return;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(model.ConnectTimeoutMilliseconds));
        try
        {
            await faults.WaitWhileStalledAsync(source, service.Cid, service, null, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw VmciError.Create(Errno.ECANCELED, VmciOperation.Connect, endpoint, "cancelled by the caller", e);
        }
        catch (OperationCanceledException e)
        {
            throw VmciError.Create(Errno.ETIMEDOUT, VmciOperation.Connect, endpoint,
                $"CID {source} and CID {service.Cid} are partitioned or paused (simulator fault): no answer within the connect timeout ({model.ConnectTimeoutMilliseconds} ms)", e);
        }
        if (faults.Current.IsRefused(source, service))
            throw VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"CID {service.Cid} refuses new connections to port {service.Port} (simulator fault refuse)");
    }

    /// <summary>
    /// connect(2) to the socket file of (machine, port). A real guest served by a vhost-user device has no socket file
    /// per port: when there is none (or a stale one), the device's gateway answers for every port of the machine — over
    /// a fresh connector end, bound like the first (.NET cannot connect a socket again after a failed connect, and the
    /// gateway checks the bound name as a listener does). Ordinary machines have no gateway: their errors are the original ones.
    /// </summary>
    private void ConnectToMachine(ref Socket socket, ref string? bound, uint localCid, uint machine, uint port, string endpoint)
    {
        try
        {
            socket.Connect(_layout.SocketEndPoint(machine, port));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused)
        {
            if (TryConnectGateway(localCid, machine, endpoint) is not var (gateway, gatewayBound))
                throw;
            socket.Dispose();
            if (bound is not null)
                UnixFiles.Unlink(bound);
            (socket, bound) = (gateway, gatewayBound);
        }
    }

    private (Socket Socket, string? Bound)? TryConnectGateway(uint localCid, uint machine, string endpoint)
    {
        if (!File.Exists(_layout.GatewayPath(machine)))
            return null;
        var (gateway, bound) = BindConnectorEnd(localCid, endpoint);
        try
        {
            gateway.Blocking = false;
            gateway.Connect(_layout.GatewayEndPoint(machine));
            return (gateway, bound);
        }
        catch (SocketException)
        {
            gateway.Dispose();
            if (bound is not null)
                UnixFiles.Unlink(bound);
            return null;
        }
    }

    private VmciException ConnectFailure(SocketException e, uint machine, VsockAddress remote, string endpoint)
    {
        if (e.SocketErrorCode is SocketError.ConnectionRefused)
            return VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"nobody listens on port {remote.Port} of CID {remote.Cid} (a stale socket file)", e);
        if (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain)
            return VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"the backlog of port {remote.Port} of CID {remote.Cid} is full", e);
        if (e.SocketErrorCode is SocketError.Shutdown) // EPIPE: the listening socket closed with this connection in its backlog
            return VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"the listener on port {remote.Port} of CID {remote.Cid} closed before answering", e);
        if (!_layout.MachineExists(machine))
            return VmciError.Create(Errno.ENODEV, VmciOperation.Connect, endpoint, $"no machine has CID {machine} in fabric {_layout.Root}", e);
        if (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionReset)
            return VmciError.Create(Errno.ECONNRESET, VmciOperation.Connect, endpoint, $"nobody listens on port {remote.Port} of CID {remote.Cid}", e);
        return VmciError.From(e, VmciOperation.Connect, endpoint);
    }

    private static VsockBufferModel OptionsModel(VsockOptions? options)
    {
        var model = new VsockBufferModel();
        if (options is not null)
        {
            foreach (var (option, value) in options.InApplyOrder())
                model.Set(option, value);
        }
        return model;
    }
}
