using Vmci.Transport.Internal;

namespace Vmci.Transport;

/// <summary>
/// The vmci options of one NetMQ socket (<see cref="VmciSocketExtensions.VmciOptions"/>), the counterpart of
/// NetMQ's <c>socket.Options</c>. Values are validated when set — the same rule, the same EINVAL, whether set through a
/// property or by option id — and read back as set; a value not set reads back as its default and, for the ZMQ_VMCI_*
/// options, is not applied. They are copied at each bind or connect (as libzmq copies its options) and applied to every
/// real vsock connection in the order max, min, size (the kernel clamps size into [min, max]), so the order in which
/// they were set does not matter. Thread-safe.
/// </summary>
public sealed class VmciSocketOptions
{
    private readonly Lock _gate = new();
    private ulong? _size;
    private ulong? _minSize;
    private ulong? _maxSize;
    private TimeSpan? _connectTimeout;
    private IVsockNetwork? _network;
    private VmciTransportMode? _mode;
    private int _maxConnections = DefaultMaxConnections;
    private TimeSpan _handshakeTimeout = DefaultHandshakeTimeout;

    /// <summary>The default of <see cref="MaxConnections"/>: 4096.</summary>
    public const int DefaultMaxConnections = 4096;

    /// <summary>The default of <see cref="HandshakeTimeout"/>: 30 s, libzmq's ZMQ_HANDSHAKE_IVL.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The largest <see cref="MaxConnections"/>: 1,048,576.</summary>
    public const int MaxMaxConnections = 1 << 20;

    internal VmciSocketOptions()
    {
    }

    /// <summary>The backend used by the next bind or connect. <remarks>Defaults to <see cref="VmciNetwork.Default"/>.</remarks></summary>
    public IVsockNetwork Network
    {
        get
        {
            lock (_gate)
                return _network ??= VmciNetwork.Default;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
                _network = value;
        }
    }

    /// <summary>
    /// How the next bind or connect reaches NetMQ; direct falls back to the relay when direct mode is unavailable.
    /// <remarks>Defaults to <see cref="VmciTransport.RequestedMode"/>.</remarks>
    /// </summary>
    public VmciTransportMode TransportMode
    {
        get
        {
            lock (_gate)
                return _mode ?? VmciTransport.RequestedMode;
        }
        set
        {
            if (!Enum.IsDefined(value))
                throw Invalid(VmciOperation.SetOption, "TransportMode", value.ToString(), "the transport mode is Direct or Relay");
            lock (_gate)
                _mode = value;
        }
    }

    /// <summary>
    /// The cap on live connections accepted by each vmci bind of this socket: beyond it the simulator refuses a connection
    /// during its handshake (the connector gets ECONNRESET, as from a full backlog) and the kernel's are closed as soon as
    /// accepted. 1..<see cref="MaxMaxConnections"/>. <remarks>Defaults to 4096.</remarks>
    /// </summary>
    /// <exception cref="NetMQ.InvalidException">EINVAL: outside 1..1,048,576.</exception>
    public int MaxConnections
    {
        get
        {
            lock (_gate)
                return _maxConnections;
        }
        set
        {
            if (value is < 1 or > MaxMaxConnections)
                throw Invalid(VmciOperation.SetOption, "MaxConnections", value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"the connection cap is 1..{MaxMaxConnections}");
            lock (_gate)
                _maxConnections = value;
        }
    }

    /// <summary>
    /// How long a peer may take to complete the ZMTP handshake (greeting and security handshake) on a vmci connection of
    /// this socket before the connection is closed (libzmq's ZMQ_HANDSHAKE_IVL); <see cref="TimeSpan.Zero"/>: no bound.
    /// At most <see cref="int.MaxValue"/> ms. <remarks>Defaults to 30 s.</remarks>
    /// </summary>
    /// <exception cref="NetMQ.InvalidException">EINVAL: negative or too long.</exception>
    public TimeSpan HandshakeTimeout
    {
        get
        {
            lock (_gate)
                return _handshakeTimeout;
        }
        set
        {
            if (value < TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
                throw Invalid(VmciOperation.SetOption, "HandshakeTimeout", value.ToString(), $"the handshake timeout is 0 (no bound) up to {int.MaxValue} ms");
            lock (_gate)
                _handshakeTimeout = value;
        }
    }

    /// <summary>ZMQ_VMCI_BUFFER_SIZE in bytes. <remarks>Defaults to 256 KiB.</remarks></summary>
    public ulong BufferSize
    {
        get => Get(VmciSocketOption.BufferSize);
        set => Set(VmciSocketOption.BufferSize, value);
    }

    /// <summary>ZMQ_VMCI_BUFFER_MIN_SIZE in bytes. <remarks>Defaults to 128.</remarks></summary>
    public ulong BufferMinSize
    {
        get => Get(VmciSocketOption.BufferMinSize);
        set => Set(VmciSocketOption.BufferMinSize, value);
    }

    /// <summary>ZMQ_VMCI_BUFFER_MAX_SIZE in bytes. <remarks>Defaults to 256 KiB.</remarks></summary>
    public ulong BufferMaxSize
    {
        get => Get(VmciSocketOption.BufferMaxSize);
        set => Set(VmciSocketOption.BufferMaxSize, value);
    }

    /// <summary>
    /// ZMQ_VMCI_CONNECT_TIMEOUT: how long one connect attempt may take, 1 ms resolution (rounded up);
    /// <see cref="Timeout.InfiniteTimeSpan"/> (-1 ms) or zero: the kernel's default. <remarks>Defaults to 2 s (the kernel's).</remarks>
    /// </summary>
    /// <exception cref="NetMQ.InvalidException">EINVAL: negative other than -1 ms, or longer than the kernel accepts — as by id.</exception>
    public TimeSpan ConnectTimeout
    {
        get => TimeSpan.FromMilliseconds(Get(VmciSocketOption.ConnectTimeout));
        set => Set(VmciSocketOption.ConnectTimeout, value == Timeout.InfiniteTimeSpan ? -1
            : value < TimeSpan.Zero ? long.MinValue : value.TotalMilliseconds >= long.MaxValue ? long.MaxValue : (long)Math.Ceiling(value.TotalMilliseconds), value.ToString());
    }

    /// <summary>Reads an option back: bytes for the buffer options, milliseconds for the connect timeout.</summary>
    public long this[VmciSocketOption option]
    {
        get => (long)Get(option);
        set => Set(option, value, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The limits for one bind or connect.</summary>
    internal EndpointLimits Limits()
    {
        lock (_gate)
            return new EndpointLimits(_maxConnections, _handshakeTimeout);
    }

    /// <summary>A snapshot for one bind or connect: only the options that were set.</summary>
    internal VsockOptions Snapshot()
    {
        lock (_gate)
            return new VsockOptions { BufferSize = _size, BufferMinSize = _minSize, BufferMaxSize = _maxSize, ConnectTimeout = _connectTimeout };
    }

    private ulong Get(VmciSocketOption option)
    {
        lock (_gate)
        {
            return option switch
            {
                VmciSocketOption.BufferSize => _size ?? VsockOptions.DefaultBufferSize,
                VmciSocketOption.BufferMinSize => _minSize ?? VsockOptions.DefaultBufferMinSize,
                VmciSocketOption.BufferMaxSize => _maxSize ?? VsockOptions.DefaultBufferMaxSize,
                VmciSocketOption.ConnectTimeout => (ulong)(_connectTimeout ?? VsockOptions.DefaultConnectTimeout).TotalMilliseconds,
                _ => throw Invalid(VmciOperation.GetOption, option, null, "not a vmci option (85..88)"),
            };
        }
    }

    private void Set(VmciSocketOption option, ulong value) => SetBuffer(option, value);

    private void Set(VmciSocketOption option, long value, string text)
    {
        if (option is VmciSocketOption.ConnectTimeout)
        {
            if (value < -1 || value > (long)VsockOptions.MaxConnectTimeoutMilliseconds)
                throw Invalid(VmciOperation.SetOption, option, text, $"the connect timeout is -1 (kernel default) or 0..{VsockOptions.MaxConnectTimeoutMilliseconds} ms");
            lock (_gate)
                _connectTimeout = value is -1 or 0 ? null : TimeSpan.FromMilliseconds(value);
            return;
        }
        if (value < 0 && option is VmciSocketOption.BufferSize or VmciSocketOption.BufferMinSize or VmciSocketOption.BufferMaxSize)
            throw Invalid(VmciOperation.SetOption, option, text, "a buffer size is an unsigned 64-bit number of bytes");
        SetBuffer(option, (ulong)value);
    }

    private void SetBuffer(VmciSocketOption option, ulong value)
    {
        lock (_gate)
        {
            switch (option)
            {
                case VmciSocketOption.BufferSize:
                    _size = value;
                    break;
                case VmciSocketOption.BufferMinSize:
                    _minSize = value;
                    break;
                case VmciSocketOption.BufferMaxSize:
                    _maxSize = value;
                    break;
                default:
                    throw Invalid(VmciOperation.SetOption, option, value.ToString(System.Globalization.CultureInfo.InvariantCulture), "not a vmci option (85..88)");
            }
        }
    }

    private static NetMQ.NetMQException Invalid(VmciOperation operation, VmciSocketOption option, string? value, string rule) =>
        Invalid(operation, $"{(int)option} ({option})", value, rule);

    private static NetMQ.NetMQException Invalid(VmciOperation operation, string option, string? value, string rule) =>
        NetMQErrors.ToNetMQ(VmciError.Create(Errno.EINVAL, operation, null,
            $"option {option}" + (value is null ? "" : $" = {value}") + $": {rule}"));
}
