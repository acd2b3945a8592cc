using Vmci.Transport.Internal;

namespace Vmci.Transport;

/// <summary>
/// The vmci options of one NetMQ socket (<see cref="VmciSocketExtensions.VmciOptions"/>), the counterpart of
/// NetMQ's <c>socket.Options</c>. Values are validated when set and read back as set; a value not set reads
/// back as the kernel default and is not applied. They are copied at each bind or connect (as libzmq copies its
/// options) and applied to every real vsock connection in the order max, min, size (the kernel clamps size into
/// [min, max]), so the order in which they were set does not matter. Thread-safe.
/// </summary>
public sealed class VmciSocketOptions
{
    private readonly Lock _gate = new();
    private ulong? _size;
    private ulong? _minSize;
    private ulong? _maxSize;
    private TimeSpan? _connectTimeout;
    private IVsockNetwork? _network;

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

    /// <summary>ZMQ_VMCI_CONNECT_TIMEOUT: how long one connect attempt may take, 1 ms resolution. <remarks>Defaults to 2 s (the kernel's).</remarks></summary>
    /// <exception cref="NetMQ.InvalidException">Negative, or longer than the kernel accepts.</exception>
    public TimeSpan ConnectTimeout
    {
        get => TimeSpan.FromMilliseconds(Get(VmciSocketOption.ConnectTimeout));
        set => Set(VmciSocketOption.ConnectTimeout, value < TimeSpan.Zero ? -1 : (long)Math.Ceiling(value.TotalMilliseconds), value.ToString());
    }

    /// <summary>Reads an option back: bytes for the buffer options, milliseconds for the connect timeout.</summary>
    public long this[VmciSocketOption option]
    {
        get => (long)Get(option);
        set => Set(option, value, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
        NetMQErrors.ToNetMQ(VmciError.Create(Errno.EINVAL, operation, null,
            $"option {(int)option} ({option})" + (value is null ? "" : $" = {value}") + $": {rule}"));
}
