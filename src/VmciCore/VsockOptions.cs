namespace Vmci;

/// <summary>The AF_VSOCK socket options (level 40), with their Linux numbers.</summary>
public enum VsockOption
{
    /// <summary>SO_VM_SOCKETS_BUFFER_SIZE: the stream buffer size, clamped into [min, max].</summary>
    BufferSize = 0,
    /// <summary>SO_VM_SOCKETS_BUFFER_MIN_SIZE.</summary>
    BufferMinSize = 1,
    /// <summary>SO_VM_SOCKETS_BUFFER_MAX_SIZE.</summary>
    BufferMaxSize = 2,
    /// <summary>SO_VM_SOCKETS_CONNECT_TIMEOUT (a struct timeval on the wire; milliseconds here).</summary>
    ConnectTimeout = 6,
}

/// <summary>
/// Socket options to set on a vsock socket before it binds or connects. A null property keeps the kernel's
/// default. They are applied in the order max, min, size, so that any order of setting gives the same result.
/// </summary>
public sealed record VsockOptions
{
    /// <summary>The kernel's default stream buffer size: 256 KiB.</summary>
    public const ulong DefaultBufferSize = 256 * 1024;

    /// <summary>The kernel's default minimum buffer size: 128 bytes.</summary>
    public const ulong DefaultBufferMinSize = 128;

    /// <summary>The kernel's default maximum buffer size: 256 KiB.</summary>
    public const ulong DefaultBufferMaxSize = 256 * 1024;

    /// <summary>The largest connect timeout the kernel takes, in milliseconds (MAX_SCHEDULE_TIMEOUT / HZ seconds, conservatively).</summary>
    public const ulong MaxConnectTimeoutMilliseconds = (ulong)int.MaxValue / 1000 * 1000;

    /// <summary>The kernel's default connect timeout: 2 seconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>SO_VM_SOCKETS_BUFFER_SIZE in bytes. <remarks>Defaults to 256 KiB.</remarks></summary>
    public ulong? BufferSize { get; init; }

    /// <summary>SO_VM_SOCKETS_BUFFER_MIN_SIZE in bytes. <remarks>Defaults to 128.</remarks></summary>
    public ulong? BufferMinSize { get; init; }

    /// <summary>SO_VM_SOCKETS_BUFFER_MAX_SIZE in bytes. <remarks>Defaults to 256 KiB.</remarks></summary>
    public ulong? BufferMaxSize { get; init; }

    /// <summary>SO_VM_SOCKETS_CONNECT_TIMEOUT: how long one connect attempt may take. <remarks>Defaults to 2 s.</remarks></summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>The options that are set, in the order they must be applied (max, min, size, timeout), values as <see cref="IVsockConnection.SetOption"/> takes them.</summary>
    public IEnumerable<(VsockOption Option, ulong Value)> InApplyOrder()
    {
        if (BufferMaxSize is { } max)
            yield return (VsockOption.BufferMaxSize, max);
        if (BufferMinSize is { } min)
            yield return (VsockOption.BufferMinSize, min);
        if (BufferSize is { } size)
            yield return (VsockOption.BufferSize, size);
        if (ConnectTimeout is { } timeout)
            yield return (VsockOption.ConnectTimeout, (ulong)Math.Ceiling(timeout.TotalMilliseconds));
    }
}
