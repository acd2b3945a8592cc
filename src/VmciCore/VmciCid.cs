namespace Vmci;

/// <summary>The well-known VMCI/vsock context IDs (linux/vm_sockets.h).</summary>
public static class VmciCid
{
    /// <summary>VMADDR_CID_ANY: bind to every local context. Written <c>*</c> or <c>-1</c> in an endpoint.</summary>
    public const uint Any = 0xFFFF_FFFF;

    /// <summary>VMADDR_CID_HYPERVISOR: reserved for the hypervisor.</summary>
    public const uint Hypervisor = 0;

    /// <summary>VMADDR_CID_LOCAL: the caller's own context (loopback).</summary>
    public const uint Local = 1;

    /// <summary>VMADDR_CID_HOST: the host. Under VMware the host is always CID 2.</summary>
    public const uint Host = 2;

    /// <summary>The first CID a guest can have.</summary>
    public const uint FirstGuest = 3;
}

/// <summary>The well-known vsock ports.</summary>
public static class VmciPort
{
    /// <summary>VMADDR_PORT_ANY: at bind, an ephemeral port chosen by the system. Written <c>*</c> or <c>-1</c>.</summary>
    public const uint Any = 0xFFFF_FFFF;

    /// <summary>Ports up to this one need CAP_NET_BIND_SERVICE to bind (LAST_RESERVED_PORT).</summary>
    public const uint LastReserved = 1023;
}
