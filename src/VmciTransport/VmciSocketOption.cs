namespace Vmci.Transport;

/// <summary>The VMCI socket options, with libzmq's option ids (zmq.h, ZMQ_VMCI_*).</summary>
public enum VmciSocketOption
{
    /// <summary>ZMQ_VMCI_BUFFER_SIZE (uint64, bytes) → SO_VM_SOCKETS_BUFFER_SIZE. Default 256 KiB.</summary>
    BufferSize = 85,
    /// <summary>ZMQ_VMCI_BUFFER_MIN_SIZE (uint64, bytes) → SO_VM_SOCKETS_BUFFER_MIN_SIZE. Default 128.</summary>
    BufferMinSize = 86,
    /// <summary>ZMQ_VMCI_BUFFER_MAX_SIZE (uint64, bytes) → SO_VM_SOCKETS_BUFFER_MAX_SIZE. Default 256 KiB.</summary>
    BufferMaxSize = 87,
    /// <summary>ZMQ_VMCI_CONNECT_TIMEOUT (int, milliseconds; -1 = the kernel's default of 2 s) → SO_VM_SOCKETS_CONNECT_TIMEOUT.</summary>
    ConnectTimeout = 88,
}
