using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Vmci.Transport.Linux;

/// <summary>
/// The real backend: Linux AF_VSOCK (VMware's vmw_vsock_vmci_transport, or vsock_loopback in a QEMU guest).
/// Every socket is created by P/Invoke, owned by a <see cref="SafeSocketHandle"/> and driven by .NET's
/// <see cref="Socket"/> for async I/O. On other OSes every call fails with a clear EAFNOSUPPORT.
/// </summary>
internal sealed class KernelVsockNetwork : IVsockNetwork
{
    /// <summary>Extra time past the kernel's own connect timeout before the attempt is abandoned here (ETIMEDOUT).</summary>
    private static readonly TimeSpan ConnectGrace = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public string Name => "vsock";

    /// <inheritdoc />
    public unsafe uint GetLocalCid()
    {
        const string Operation = "get local cid";
        VsockSocket.EnsureLinux(Operation, Interop.VsockDevice);
        SafeFileHandle device;
        int errno;
        do
        {
            device = Interop.open(Interop.VsockDevice, Interop.O_RDONLY | Interop.O_CLOEXEC);
            errno = device.IsInvalid ? Interop.LastErrno : 0;
        }
        while (errno == Interop.EINTR);
        using (device)
        {
            if (device.IsInvalid)
            {
                throw errno == Interop.ENOENT
                    ? VmciError.Create(Errno.ENODEV, Operation, Interop.VsockDevice, "no /dev/vsock: this machine has no vsock transport, so no local CID")
                    : VmciError.FromErrno(errno, Operation, Interop.VsockDevice, "open");
            }
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
        var socket = VsockSocket.Create("bind", endpoint);
        try
        {
            VsockSocket.Apply(socket, options, endpoint);
            Bind(socket, address, endpoint);
            try
            {
                socket.Listen(backlog);
            }
            catch (SocketException e)
            {
                throw VsockSocket.Error(e, "listen", endpoint);
            }
            return new KernelVsockListener(socket, VsockSocket.LocalAddress(socket, "bind", endpoint));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IVsockConnection> ConnectAsync(VsockAddress remote, VsockOptions? options = null, CancellationToken cancellationToken = default)
    {
        var endpoint = remote.ToString();
        var socket = VsockSocket.Create("connect", endpoint);
        try
        {
            VsockSocket.Apply(socket, options, endpoint);
            var timeout = TimeSpan.FromMilliseconds(VsockSocket.GetOption(socket, VsockOption.ConnectTimeout, endpoint)) + ConnectGrace;
            using var guard = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            guard.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(new VsockEndPoint(remote), guard.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
            {
                throw VmciError.Create(Errno.ECANCELED, "connect", endpoint, "the connect was cancelled", e);
            }
            catch (OperationCanceledException e)
            {
                throw VmciError.Create(Errno.ETIMEDOUT, "connect", endpoint, $"no answer within the connect timeout ({timeout - ConnectGrace:g})", e);
            }
            catch (SocketException e) when (VmciError.ToErrno(e.SocketErrorCode) == Errno.EIO && VsockSocket.ProbeConnectErrno(remote) is { } errno)
            {
                throw VmciError.Create(errno, "connect", endpoint, null, e);
            }
            catch (SocketException e)
            {
                throw VsockSocket.Error(e, "connect", endpoint);
            }
            return KernelVsockConnection.Connected(socket, endpoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void Bind(Socket socket, VsockAddress address, string endpoint)
    {
        try
        {
            socket.Bind(new VsockEndPoint(address));
        }
        catch (SocketException e)
        {
            var rule = VmciError.ToErrno(e.SocketErrorCode) switch
            {
                Errno.EADDRNOTAVAIL => "the cid must be * or this machine's own CID",
                Errno.EADDRINUSE => "another socket is bound to that port (on any cid)",
                Errno.EACCES => $"ports <= {VmciPort.LastReserved} need CAP_NET_BIND_SERVICE",
                _ => null,
            };
            throw VsockSocket.Error(e, "bind", endpoint, rule);
        }
    }
}
