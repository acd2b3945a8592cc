namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// Every error the device raises is made here, with one of the device's operations of <see cref="VmciOperation"/>.
/// </summary>
internal static class DeviceErrors
{
    /// <summary>Starting the device: binding its sockets, opening its fabric.</summary>
    private const VmciOperation StartOperation = VmciOperation.StartDevice;

    /// <summary>The vhost-user conversation with the front-end (QEMU).</summary>
    private const VmciOperation FrontEndOperation = VmciOperation.VhostUser;

    /// <summary>The guest's side: virtqueues, descriptors and the memory they point into.</summary>
    private const VmciOperation GuestOperation = VmciOperation.VirtioVsock;

    /// <summary>The device could not start: <paramref name="detail"/> says why.</summary>
    public static VmciException Start(Errno errno, string endpoint, string detail, Exception? inner = null) =>
        VmciError.Create(errno, StartOperation, endpoint, detail, inner);

    /// <summary>A system call failed while starting the device.</summary>
    public static VmciException StartSystem(int errno, string endpoint, string detail) =>
        VmciError.FromErrno(errno, StartOperation, endpoint, detail);

    /// <summary>The front-end broke a vhost-user rule (or its socket failed): the device stops.</summary>
    public static VmciException FrontEnd(string socketPath, string rule) =>
        VmciError.Create(Errno.EINVAL, FrontEndOperation, socketPath, rule);

    /// <summary>A system call of the vhost-user conversation failed: the device stops.</summary>
    public static VmciException FrontEndSystem(int errno, string socketPath, string detail) =>
        VmciError.FromErrno(errno, FrontEndOperation, socketPath, detail);

    /// <summary>The guest broke a virtqueue rule that no connection reset can contain: the device stops.</summary>
    public static VmciException Guest(uint cid, string rule) =>
        VmciError.Create(Errno.EINVAL, GuestOperation, GuestName(cid), rule);

    /// <summary>An unexpected failure inside the device: it stops rather than go on in an unknown state.</summary>
    public static VmciException Internal(uint cid, Exception e) =>
        VmciError.Create(Errno.EIO, GuestOperation, GuestName(cid), $"internal error: {e.GetType().Name}: {e.Message}", e);

    /// <summary>An unexpected failure of a fabric operation (not a VmciException): its connection is reset.</summary>
    public static VmciException Fabric(uint cid, Exception e) =>
        VmciError.Create(Errno.EIO, GuestOperation, GuestName(cid), $"fabric operation failed: {e.GetType().Name}: {e.Message}", e);

    /// <summary>A fabric socket's receive or send failed with <paramref name="errno"/> (its connection is reset).</summary>
    public static VmciException FabricSystem(int errno, VmciOperation operation, VsockAddress peer) =>
        VmciError.FromErrno(errno, operation, peer.ToString());

    /// <summary>The name of a guest in messages: <c>guest CID 3</c>.</summary>
    public static string GuestName(uint cid) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"guest CID {cid}");
}
