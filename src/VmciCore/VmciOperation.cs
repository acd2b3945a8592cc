namespace Vmci;

/// <summary>
/// The closed set of operations a <see cref="VmciException"/> can report (mdlayher/vsock's <c>opAccept … opWrite</c>).
/// <see cref="VmciError.Name"/> gives each its name in messages: <c>bind</c>, <c>connect</c>, <c>getsockopt</c>, …
/// </summary>
public enum VmciOperation
{
    /// <summary>Parsing a <c>vmci://</c> endpoint (<c>parse</c>).</summary>
    Parse,

    /// <summary>Binding an address (<c>bind</c>).</summary>
    Bind,

    /// <summary>Listening on a bound socket (<c>listen</c>).</summary>
    Listen,

    /// <summary>Connecting to a peer (<c>connect</c>).</summary>
    Connect,

    /// <summary>Accepting a connection (<c>accept</c>).</summary>
    Accept,

    /// <summary>Sending bytes (<c>send</c>).</summary>
    Send,

    /// <summary>Receiving bytes (<c>receive</c>).</summary>
    Receive,

    /// <summary>Half-closing a connection (<c>shutdown</c>).</summary>
    Shutdown,

    /// <summary>Reading a socket option (<c>getsockopt</c>).</summary>
    GetOption,

    /// <summary>Setting a socket option (<c>setsockopt</c>).</summary>
    SetOption,

    /// <summary>Reading the local CID (<c>get local cid</c>).</summary>
    GetLocalCid,

    /// <summary>Unbinding an endpoint from a socket (<c>unbind</c>).</summary>
    Unbind,

    /// <summary>Disconnecting an endpoint from a socket (<c>disconnect</c>).</summary>
    Disconnect,

    /// <summary>Reading the configuration: environment variables and command-line flags (<c>configure</c>).</summary>
    Configure,

    /// <summary>Opening a simulator fabric directory (<c>open fabric</c>).</summary>
    OpenFabric,

    /// <summary>Joining a simulator fabric as a machine (<c>join fabric</c>).</summary>
    JoinFabric,

    /// <summary>Reading or changing a simulator fabric's topology or faults (<c>change fabric</c>).</summary>
    ChangeFabric,

    /// <summary>Starting a vhost-user vsock device: its socket, its CID on a fabric (<c>start vhost-user device</c>).</summary>
    StartDevice,

    /// <summary>A vhost-user device's conversation with its front-end, QEMU (<c>vhost-user</c>).</summary>
    VhostUser,

    /// <summary>A vhost-user device's guest side: virtqueues, descriptors, packets, guest memory (<c>virtio-vsock</c>).</summary>
    VirtioVsock,
}
