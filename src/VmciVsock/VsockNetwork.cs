using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Vmci.Vsock.Linux;

namespace Vmci.Vsock;

/// <summary>
/// The real backend: Linux AF_VSOCK — VMware's <c>vmw_vsock_vmci_transport</c>, virtio-vsock in a KVM or QEMU guest,
/// or <c>vsock_loopback</c>. Bind, listen, connect and accept are this library's own system calls, so every error is
/// the kernel's errno (SPEC §5); the bytes of a connection then go through a .NET <see cref="Socket"/>. On other
/// operating systems every call fails with EAFNOSUPPORT and says so.
/// </summary>
/// <remarks>Never use it on a machine whose <c>/dev/vsock</c> belongs to its own hypervisor unless you mean to.</remarks>
public sealed class VsockNetwork : IVsockNetwork
{
    /// <summary>Extra time past the kernel's own connect timeout before an attempt is abandoned here (ETIMEDOUT).</summary>
    private static readonly TimeSpan ConnectGrace = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public string Name => "vsock";

    /// <inheritdoc />
    public unsafe uint GetLocalCid()
    {
        const VmciOperation Operation = VmciOperation.GetLocalCid;
        VsockSocket.EnsureLinux(Operation, Interop.VsockDevice);
        SafeFileHandle? device;
        int errno;
        do
        {
            device = Interop.OwnFile(Interop.open(Interop.VsockDevice, Interop.O_RDONLY | Interop.O_CLOEXEC));
            errno = device is null ? Interop.LastErrno : 0;
        }
        while (errno == Interop.EINTR);
        if (device is null)
        {
            throw errno == Interop.ENOENT
                ? VmciError.Create(Errno.ENODEV, Operation, Interop.VsockDevice, "no /dev/vsock: this machine has no vsock transport, so no local CID")
                : VmciError.FromErrno(errno, Operation, Interop.VsockDevice, "open");
        }
        using (device)
        {
            uint cid = VmciCid.Any;
            int rc;
            do
                rc = Interop.ioctl(device, Interop.IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
            while (rc < 0 && Interop.LastErrno == Interop.EINTR);
            if (rc < 0)
                throw VmciError.FromErrno(Interop.LastErrno, Operation, Interop.VsockDevice, "IOCTL_VM_SOCKETS_GET_LOCAL_CID");
            return cid == VmciCid.Any
                ? throw VmciError.Create(Errno.ENODEV, Operation, Interop.VsockDevice, "the kernel reports no local CID (VMADDR_CID_ANY)")
                : cid;
        }
    }

    /// <inheritdoc />
    public IVsockListener Listen(VsockAddress address, VsockOptions? options = null, int backlog = 128)
    {
        var endpoint = address.ToString();
        var socket = VsockSocket.Create(VmciOperation.Bind, endpoint, nonBlocking: true);
        try
        {
            VsockSocket.Apply(socket, options, endpoint);
            VsockSocket.Bind(socket, address, endpoint);
            VsockSocket.Listen(socket, backlog, endpoint);
            return new VsockListener(socket, VsockSocket.LocalAddress(socket, VmciOperation.Bind, endpoint));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A non-blocking connect(2), a wait until the socket is writable (bounded by the socket's connect timeout plus a
    /// second), then SO_ERROR: ECONNRESET when nobody listens, ENODEV without a transport for the CID, ENETUNREACH when
    /// the transport's policy refuses, ETIMEDOUT past the connect timeout, ECANCELED when cancelled.
    /// </remarks>
    public async ValueTask<IVsockConnection> ConnectAsync(VsockAddress remote, VsockOptions? options = null, CancellationToken cancellationToken = default)
    {
        var endpoint = remote.ToString();
        if (cancellationToken.IsCancellationRequested)
            throw VmciError.Create(Errno.ECANCELED, VmciOperation.Connect, endpoint, "cancelled by the caller");
        var socket = VsockSocket.Create(VmciOperation.Connect, endpoint, nonBlocking: true);
        try
        {
            VsockSocket.Apply(socket, options, endpoint);
            if (!VsockSocket.StartConnect(socket, remote, endpoint))
            {
                var timeout = TimeSpan.FromMilliseconds(VsockSocket.GetOption(socket, VsockOption.ConnectTimeout, endpoint));
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(timeout + ConnectGrace);
                try
                {
                    await Readiness.Shared.WaitAsync(socket, Interop.EPOLLOUT, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
                {
                    throw VmciError.Create(Errno.ECANCELED, VmciOperation.Connect, endpoint, "cancelled by the caller", e);
                }
                catch (OperationCanceledException e)
                {
                    throw VmciError.Create(Errno.ETIMEDOUT, VmciOperation.Connect, endpoint, $"no answer within the connect timeout ({timeout:g})", e);
                }
                VsockSocket.FinishConnect(socket, remote, endpoint);
            }
            VsockSocket.MakeBlocking(socket, VmciOperation.Connect, endpoint);
            return VsockConnection.Wrap(socket, VmciOperation.Connect, endpoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override string ToString() => "vsock (Linux AF_VSOCK)";
}
