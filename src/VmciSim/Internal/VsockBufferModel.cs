namespace Vmci.Sim.Internal;

/// <summary>
/// The kernel's model of the AF_VSOCK options (net/vmw_vsock/af_vsock.c): the buffer size is clamped to at least
/// min and then at most max whenever any of the three changes; a connect timeout of 0 means the 2 s default; a timeout
/// that a timeval cannot hold is ERANGE. The simulator keeps each socket's options in one of these; the kernel backend lets the kernel do it.
/// </summary>
internal sealed class VsockBufferModel
{
    /// <summary>SO_VM_SOCKETS_BUFFER_SIZE.</summary>
    public ulong Size { get; private set; } = VsockOptions.DefaultBufferSize;

    /// <summary>SO_VM_SOCKETS_BUFFER_MIN_SIZE.</summary>
    public ulong MinSize { get; private set; } = VsockOptions.DefaultBufferMinSize;

    /// <summary>SO_VM_SOCKETS_BUFFER_MAX_SIZE.</summary>
    public ulong MaxSize { get; private set; } = VsockOptions.DefaultBufferMaxSize;

    /// <summary>SO_VM_SOCKETS_CONNECT_TIMEOUT in milliseconds.</summary>
    public ulong ConnectTimeoutMilliseconds { get; private set; } = (ulong)VsockOptions.DefaultConnectTimeout.TotalMilliseconds;

    /// <summary>A copy, as an accepted socket inherits its listener's options.</summary>
    public VsockBufferModel Clone() => (VsockBufferModel)MemberwiseClone();

    /// <summary>getsockopt.</summary>
    public ulong Get(VsockOption option) => option switch
    {
        VsockOption.BufferSize => Size,
        VsockOption.BufferMinSize => MinSize,
        VsockOption.BufferMaxSize => MaxSize,
        VsockOption.ConnectTimeout => ConnectTimeoutMilliseconds,
        _ => throw VmciError.Create(Errno.ENOPROTOOPT, VmciOperation.GetOption, null, $"option {(int)option} is not an AF_VSOCK option"),
    };

    /// <summary>setsockopt, with the kernel's clamping and range checks.</summary>
    public void Set(VsockOption option, ulong value)
    {
        switch (option)
        {
            case VsockOption.BufferSize:
                Update(value);
                break;
            case VsockOption.BufferMinSize:
                MinSize = value;
                Update(Size);
                break;
            case VsockOption.BufferMaxSize:
                MaxSize = value;
                Update(Size);
                break;
            case VsockOption.ConnectTimeout:
                if (value > VsockOptions.MaxConnectTimeoutMilliseconds)
                    throw VmciError.Create(Errno.ERANGE, VmciOperation.SetOption, null, $"connect timeout {value} ms does not fit a timeval the kernel accepts");
                ConnectTimeoutMilliseconds = value == 0 ? (ulong)VsockOptions.DefaultConnectTimeout.TotalMilliseconds : value;
                break;
            default:
                throw VmciError.Create(Errno.ENOPROTOOPT, VmciOperation.SetOption, null, $"option {(int)option} is not an AF_VSOCK option");
        }
    }

    // Min first, then max: when min > max the size ends at max. That is what Debian's 6.1 kernel does
    // (observed in the QEMU guest, see docs/kernel-backend.md); older kernels clamped the other way round.
    private void Update(ulong value)
    {
        if (value < MinSize)
            value = MinSize;
        if (value > MaxSize)
            value = MaxSize;
        Size = value;
    }
}
