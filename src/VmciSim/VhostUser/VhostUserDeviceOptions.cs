using System.Globalization;
using System.Text;
using Vmci.Sim.Unix;
using Vmci.Sim.VhostUser.Internal;

namespace Vmci.Sim.VhostUser;

/// <summary>The settings of a <see cref="VhostUserDevice"/>: which guest, on which fabric, behind which socket, within which limits.</summary>
public sealed class VhostUserDeviceOptions
{
    /// <summary>The smallest <see cref="BufferSize"/>.</summary>
    public const uint MinBufferSize = 4096;

    /// <summary>The largest <see cref="BufferSize"/>.</summary>
    public const uint MaxBufferSize = 16 * 1024 * 1024;

    /// <summary>The fabric directory the guest joins.</summary>
    /// <remarks>Defaults to <see cref="SimFabric.DefaultDirectory"/> (<c>$VMCI_SIM_FABRIC</c>, else a per-user directory).</remarks>
    public string? Fabric { get; set; }

    /// <summary>The guest's CID: what the guest reads from the device's configuration space, and its machine in the fabric.</summary>
    /// <remarks>Required: 3 or more (0 is the hypervisor, 1 loopback, 2 the host).</remarks>
    public uint Cid { get; set; }

    /// <summary>The vhost-user socket QEMU connects to (<c>-chardev socket,id=ID,path=PATH</c>).</summary>
    /// <remarks>Required. A stale socket file there is replaced; a live one is an error.</remarks>
    public string SocketPath { get; set; } = "";

    /// <summary>The most connections the guest may have at once, in every state; more are refused with RST.</summary>
    /// <remarks>Defaults to 256.</remarks>
    public int MaxConnections { get; set; } = 256;

    /// <summary>
    /// The receive buffer the device advertises to the guest for each connection (virtio-vsock <c>buf_alloc</c>): the
    /// most guest bytes one connection can have in the device at once. Larger than the kernel's 256 KiB so that a guest
    /// keeps sending while the device waits for a CPU on a busy host (measured: docs/vhost-user.md).
    /// </summary>
    /// <remarks>Defaults to 1 MiB; from 4 KiB to 16 MiB.</remarks>
    public uint BufferSize { get; set; } = 1024 * 1024;

    /// <summary>How long a fabric connector waits at the gateway for the guest's answer before the device gives up (ETIMEDOUT).</summary>
    /// <remarks>Defaults to 30 seconds; the connector's own connect timeout (2 s by default) usually ends it first.</remarks>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Receives one line per notable event: the front-end's arrival and departure, connections reset because a rule was broken, the closing statistics.</summary>
    /// <remarks>Defaults to null (no log). Called on the device's threads; it must not block.</remarks>
    public Action<string>? Log { get; set; }

    /// <summary>Checks every setting once; the first one that is wrong is reported.</summary>
    internal DeviceSettings Validate()
    {
        string? problem = null;
        if (Cid is < VmciCid.FirstGuest or VmciCid.Any)
            problem = string.Create(CultureInfo.InvariantCulture, $"CID {Cid} cannot be a guest's (use 3 or more; 0 is the hypervisor, 1 loopback, 2 the host)");
        else if (string.IsNullOrEmpty(SocketPath))
            problem = "no vhost-user socket path";
        else if (Encoding.UTF8.GetByteCount(Path.GetFullPath(SocketPath)) > UnixPlatform.MaxSocketPathBytes)
            problem = $"the socket path '{Path.GetFullPath(SocketPath)}' is longer than sun_path holds ({UnixPlatform.MaxSocketPathBytes} bytes)";
        else if (MaxConnections is < 1 or > 65536)
            problem = string.Create(CultureInfo.InvariantCulture, $"MaxConnections {MaxConnections} is not from 1 to 65536");
        else if (BufferSize is < MinBufferSize or > MaxBufferSize)
            problem = string.Create(CultureInfo.InvariantCulture, $"BufferSize {BufferSize} is not from {MinBufferSize} to {MaxBufferSize}");
        else if (AcceptTimeout <= TimeSpan.Zero)
            problem = "AcceptTimeout must be positive";
        if (problem is not null)
            throw DeviceErrors.Start(Errno.EINVAL, SocketPath, problem);
        return new DeviceSettings(MaxConnections, BufferSize, AcceptTimeout, Log);
    }
}
