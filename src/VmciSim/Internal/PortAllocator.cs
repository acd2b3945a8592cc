namespace Vmci.Sim.Internal;

/// <summary>
/// Ephemeral ports as the kernel picks them (__vsock_bind_connectible): a counter that starts at a random value
/// above 1023, is incremented for every candidate and wraps back to 1024; a bind gives up after 24 taken ports
/// (EADDRNOTAVAIL). The kernel has one counter per machine; the simulator has one per <see cref="SimFabric"/> object.
/// Unlike the kernel, <see cref="VmciPort.Any"/> (0xFFFFFFFF) itself is never handed out.
/// </summary>
internal sealed class PortAllocator
{
    /// <summary>MAX_PORT_RETRIES in af_vsock.c.</summary>
    public const int MaxRetries = 24;

    private uint _next;

    public PortAllocator(uint start) => _next = start;

    /// <summary>A counter starting where the kernel's would: random in (1023, 0xFFFFFFFF).</summary>
    public static PortAllocator CreateRandom() =>
        new((uint)Random.Shared.NextInt64(VmciPort.LastReserved + 1, VmciPort.Any));

    /// <summary>The next candidate port.</summary>
    public uint Next()
    {
        while (true)
        {
            var candidate = Interlocked.Increment(ref _next) - 1;
            if (candidate > VmciPort.LastReserved && candidate != VmciPort.Any)
                return candidate;
            // Wrapped past 0xFFFFFFFF (or sits on it): restart at 1024, as the kernel does; a racing thread may win instead.
            Interlocked.CompareExchange(ref _next, VmciPort.LastReserved + 1, candidate + 1);
        }
    }

    /// <summary>Moves the counter (tests).</summary>
    internal void Reset(uint start) => Volatile.Write(ref _next, start);
}
