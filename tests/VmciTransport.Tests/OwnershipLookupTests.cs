using System.Net;
using System.Net.Sockets;
using Vmci.Transport.Internal;
using Vmci.Transport.Internal.Linux;

namespace Vmci.Transport.Tests;

/// <summary>The relay's ownership check finds a loopback connection's owner the same way through netlink and through /proc (the fallback where the kernel has no inet_diag).</summary>
public sealed class OwnershipLookupTests
{
    [Fact]
    public void Lookup_OwnLoopbackConnection_NetlinkAndProcAgree()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("the lookups exist on Linux only");
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var own = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        own.Connect(IPAddress.Loopback, port);
        using var accepted = listener.Accept();
        var peer = (IPEndPoint)accepted.RemoteEndPoint!;

        var proc = LoopbackOwnership.FromProcNetTcp(peer.Port, port);
        Assert.NotNull(proc);
        Assert.Equal(SockDiag.EffectiveUid, proc.Value.Uid);
        if (SockDiag.Lookup(peer, new IPEndPoint(IPAddress.Loopback, port)) is { } netlink)
            Assert.Equal(proc, netlink); // where the kernel has inet_diag (the host), both name the same socket
        Assert.True(LoopbackOwnership.IsOwnConnection(accepted, port));
        Assert.Null(LoopbackOwnership.FromProcNetTcp(peer.Port, port == 1 ? 2 : 1));
    }
}
