using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vmci.Transport.Internal.Linux;

/// <summary>
/// socketpair(2): two connected Unix domain stream sockets. Direct mode gives one end to NetMQ's engine and pumps the
/// other to a connection that cannot hand its own socket over (<see cref="IVsockDetachable"/> refused: a simulated
/// connection under a fault that acts on its bytes, or a backend without handover).
/// </summary>
internal static partial class SocketPair
{
    /// <summary>AF_UNIX.</summary>
    private const int AF_UNIX = 1;

    /// <summary>SOCK_STREAM.</summary>
    private const int SOCK_STREAM = 1;

    /// <summary>SOCK_CLOEXEC: not inherited by child processes.</summary>
    private const int SOCK_CLOEXEC = 0x80000;

    /// <summary>int fds[2].</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Fds
    {
        public int First;
        public int Second;
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, out Fds fds);

    /// <summary>A connected pair, each end owned by its <see cref="Socket"/>.</summary>
    /// <exception cref="VmciException">The errno of socketpair(2) (EMFILE, ENFILE, ENOMEM).</exception>
    public static (Socket First, Socket Second) Create(string endpoint)
    {
        int rc;
        Fds fds;
        do
            rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out fds);
        while (rc < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (rc < 0)
            throw VmciError.FromErrno(Marshal.GetLastPInvokeError(), VmciOperation.Connect, endpoint, "socketpair for the pumped path");
        var first = new SafeSocketHandle(fds.First, ownsHandle: true);
        var second = new SafeSocketHandle(fds.Second, ownsHandle: true);
        try
        {
            return (new Socket(first), new Socket(second));
        }
        catch
        {
            first.Dispose();
            second.Dispose();
            throw;
        }
    }
}
