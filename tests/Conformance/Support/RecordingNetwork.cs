using Vmci;

namespace Conformance.Support;

/// <summary>
/// An <see cref="IVsockNetwork"/> decorator that records what the transport does at the seam: every connect attempt
/// (with the options it passed), every connection made and every connection accepted, so a NetMQ-level test can read
/// the options back from the real connection (SPEC §4) and count reconnect attempts (SPEC §3).
/// </summary>
public sealed class RecordingNetwork(IVsockNetwork inner) : IVsockNetwork
{
    private readonly Lock _gate = new();
    private readonly List<IVsockConnection> _connected = [];
    private readonly List<IVsockConnection> _accepted = [];
    private int _attempts;
    private int _failed;

    /// <inheritdoc />
    public string Name => inner.Name;

    /// <summary>How many connects were attempted so far (successful or not).</summary>
    public int ConnectAttempts => Volatile.Read(ref _attempts);

    /// <summary>How many connect attempts have failed so far.</summary>
    public int FailedConnects => Volatile.Read(ref _failed);

    /// <summary>The connections made by connect so far.</summary>
    public IReadOnlyList<IVsockConnection> Connected
    {
        get
        {
            lock (_gate)
                return [.. _connected];
        }
    }

    /// <summary>The connections accepted by listeners of this network so far.</summary>
    public IReadOnlyList<IVsockConnection> Accepted
    {
        get
        {
            lock (_gate)
                return [.. _accepted];
        }
    }

    /// <inheritdoc />
    public uint GetLocalCid() => inner.GetLocalCid();

    /// <inheritdoc />
    public IVsockListener Listen(VsockAddress address, VsockOptions? options = null, int backlog = 128) =>
        new RecordingListener(inner.Listen(address, options, backlog), this);

    /// <inheritdoc />
    public async ValueTask<IVsockConnection> ConnectAsync(VsockAddress remote, VsockOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _attempts);
        IVsockConnection connection;
        try
        {
            connection = await inner.ConnectAsync(remote, options, cancellationToken);
        }
        catch
        {
            Interlocked.Increment(ref _failed);
            throw;
        }
        lock (_gate)
            _connected.Add(connection);
        return connection;
    }

    private void OnAccepted(IVsockConnection connection)
    {
        lock (_gate)
            _accepted.Add(connection);
    }

    private sealed class RecordingListener(IVsockListener listener, RecordingNetwork owner) : IVsockListener, IVsockAdmission
    {
        public VsockAddress LocalAddress => listener.LocalAddress;

        /// <summary>Passed to the backend's listener when it has admission control (the simulator); dropped otherwise (the kernel).</summary>
        public Func<bool>? Admit
        {
            get => (listener as IVsockAdmission)?.Admit;
            set
            {
                if (listener is IVsockAdmission admission)
                    admission.Admit = value;
            }
        }

        public async ValueTask<IVsockConnection> AcceptAsync(CancellationToken cancellationToken = default)
        {
            var connection = await listener.AcceptAsync(cancellationToken);
            owner.OnAccepted(connection);
            return connection;
        }

        public void Dispose() => listener.Dispose();
    }
}
