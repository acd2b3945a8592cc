using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Vmci.Sim.Internal;
using Vmci.Sim.Unix;
using Vmci.Sim.VhostUser.Internal;

namespace Vmci.Sim.VhostUser;

/// <summary>
/// A vhost-user virtio-vsock device that makes a real QEMU guest a machine of a simulator fabric: the guest's AF_VSOCK
/// connections reach the fabric's CIDs (the host, other guests, itself through CID 1), and fabric connectors reach any
/// port of the guest through the device's gateway. One device per guest. QEMU needs a shared memory backend and the
/// device's socket: <c>-object memory-backend-memfd,id=mem,size=2048M,share=on -machine memory-backend=mem
/// -chardev socket,id=vhu0,path=SOCKET -device vhost-user-vsock-pci,chardev=vhu0</c>. See docs/vhost-user.md.
/// </summary>
/// <remarks>The guest is untrusted: a packet that breaks a rule resets its connection; a broken virtqueue stops the device.</remarks>
[SupportedOSPlatform("linux")]
public sealed class VhostUserDevice : IAsyncDisposable
{
    private readonly DeviceSettings _settings;
    private readonly SimNetwork _network;
    private readonly CancellationTokenSource _disposing = new();
    private Gateway? _gateway;
    private Socket? _listener;
    private Task? _run;
    private volatile DeviceCore? _core;

    /// <summary>Checks the options and opens the fabric (joining it as the guest's CID); nothing listens yet.</summary>
    /// <param name="options">The guest, the fabric, the socket, the limits.</param>
    /// <exception cref="VmciException">EINVAL for an option out of range; the fabric's errors (EACCES, EINVAL) when it cannot be opened.</exception>
    public VhostUserDevice(VhostUserDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _settings = options.Validate();
        Cid = options.Cid;
        SocketPath = Path.GetFullPath(options.SocketPath);
        Fabric = SimFabric.Open(options.Fabric);
        _network = Fabric.Join(Cid);
    }

    /// <summary>The guest's CID.</summary>
    public uint Cid { get; }

    /// <summary>The vhost-user socket (absolute).</summary>
    public string SocketPath { get; }

    /// <summary>The fabric the guest belongs to.</summary>
    public SimFabric Fabric { get; }

    /// <summary>The current session's device (tests).</summary>
    internal DeviceCore? Core => _core;

    /// <summary>The gateway (tests).</summary>
    internal Gateway? Gateway => _gateway;

    /// <summary>
    /// Claims the guest's CID in the fabric and listens on <see cref="SocketPath"/> — both done when this method
    /// returns — then serves the first front-end (QEMU) that connects. The task completes when the front-end
    /// disconnects (the guest powered off) or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <param name="cancellationToken">Stops the device: every connection it carries is closed.</param>
    /// <exception cref="VmciException">At once: EADDRINUSE when a live device already serves the CID or a live socket
    /// holds the path; EINVAL when run twice. From the task: EINVAL naming the rule when the guest or the front-end
    /// broke one that no connection reset can contain (the device then stopped cleanly).</exception>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        Claim();
        try
        {
            _listener = Listen(SocketPath);
        }
        catch
        {
            _gateway!.Dispose();
            throw;
        }
        return _run = AcceptAndServeAsync(_listener, cancellationToken);
    }

    /// <summary>Serves an already connected front-end (the tests' fake QEMU on a socketpair); the device owns <paramref name="frontEnd"/>.</summary>
    internal Task RunAsync(SafeHandle frontEnd, CancellationToken cancellationToken)
    {
        Claim();
        return _run = ServeAsync(frontEnd, null, cancellationToken);
    }

    /// <summary>Stops the device (if running) and waits until it has released everything; a device error is not rethrown here.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_disposing.IsCancellationRequested)
            await _disposing.CancelAsync().ConfigureAwait(false);
        if (_run is { } run)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (VmciException)
            {
                // Reported by RunAsync's task already.
            }
        }
        _listener?.Dispose();
        _gateway?.Dispose();
        _disposing.Dispose();
    }

    private void Claim()
    {
        if (_gateway is not null)
            throw DeviceErrors.Start(Errno.EINVAL, SocketPath, "the device is already running (RunAsync may be called once)");
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        _gateway = Gateway.Bind(Fabric.Layout, Cid);
    }

    private async Task AcceptAndServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        Socket frontEnd;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            frontEnd = await listener.AcceptAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _gateway!.Dispose();
            return;
        }
        finally
        {
            listener.Dispose(); // one front-end per device: the socket file goes away
        }
        _settings.Log?.Invoke($"front-end connected on {SocketPath}; serving guest CID {Cid} in fabric {Fabric.Directory}");
        await ServeAsync(frontEnd.SafeHandle, frontEnd, cancellationToken).ConfigureAwait(false);
    }

    private async Task ServeAsync(SafeHandle frontEnd, Socket? owner, CancellationToken cancellationToken)
    {
        var gateway = _gateway!;
        try
        {
            DeviceCore core;
            try
            {
                core = new DeviceCore(frontEnd, SocketPath, _network, _settings, owner);
            }
            catch
            {
                frontEnd.Dispose();
                owner?.Dispose();
                throw;
            }
            _core = core;
            core.Start();
            gateway.Device = core;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            using var registration = stop.Token.Register(core.Stop);
            await core.Completion.ConfigureAwait(false);
        }
        finally
        {
            gateway.Device = null;
            gateway.Dispose();
        }
    }

    private static Socket Listen(string path)
    {
        // Only a stale socket is replaced (lstat: a link is not followed); anything else at the path is left alone.
        if (UnixFiles.TryStat(path, out var status) == 0)
        {
            if (!status.IsSocket)
                throw DeviceErrors.Start(Errno.EADDRINUSE, path, "the path exists and is not a socket");
            if (SocketFiles.ProbeFile(path) == SocketFiles.Probe.Live)
                throw DeviceErrors.Start(Errno.EADDRINUSE, path, "a live socket holds the path (is another device running?)");
            UnixFiles.Unlink(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(1);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw DeviceErrors.Start(VmciError.ToErrno(e.SocketErrorCode), path, $"cannot listen: {e.Message}", e);
        }
    }
}
