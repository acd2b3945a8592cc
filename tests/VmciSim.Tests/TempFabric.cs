using System.Net.Sockets;
using Vmci;
using Vmci.Sim;

namespace VmciSim.Tests;

/// <summary>A fabric in its own temporary directory, deleted (with everything in it) on dispose.</summary>
internal sealed class TempFabric : IDisposable
{
    public TempFabric()
    {
        Directory = Path.Combine(Path.GetTempPath(), "vsim-" + Guid.NewGuid().ToString("N")[..10]);
        Fabric = SimFabric.Open(Directory);
    }

    public string Directory { get; }

    public SimFabric Fabric { get; }

    public static TimeSpan Watchdog => TimeSpan.FromSeconds(30);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public SimNetwork Join(uint cid) => Fabric.Join(cid);

    /// <summary>Every file and directory in the fabric, relative, sorted.</summary>
    public string[] Entries() =>
        [.. System.IO.Directory.EnumerateFileSystemEntries(Directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Directory, p)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Leaves a stale socket file at (machine, port), as a crashed process would: a socket file nobody listens on.
    /// (.NET unlinks the path it bound on dispose, so the file is bound under another name and renamed.)
    /// </summary>
    public string MakeStaleSocketFile(uint machine, uint port)
    {
        var path = Path.Combine(Directory, machine.ToString(System.Globalization.CultureInfo.InvariantCulture),
            port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var temporary = path + ".tmp";
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            socket.Listen(1);
            File.Move(temporary, path);
        }
        Assert.True(File.Exists(path));
        return path;
    }

    /// <summary>Connects a plain Unix socket to the socket file of (machine, port), bypassing the handshake.</summary>
    public Socket RawConnect(uint machine, uint port)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(Directory, machine.ToString(System.Globalization.CultureInfo.InvariantCulture),
            port.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return socket;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Helpers shared by the tests.</summary>
internal static class Sim
{
    public static async Task<(IVsockConnection Client, IVsockConnection Server)> ConnectPairAsync(
        IVsockNetwork client, IVsockListener listener, VsockAddress target, VsockOptions? options = null)
    {
        var ct = TempFabric.Ct;
        var accept = listener.AcceptAsync(ct).AsTask();
        var connection = await client.ConnectAsync(target, options, ct).AsTask().WaitAsync(TempFabric.Watchdog, ct);
        var server = await accept.WaitAsync(TempFabric.Watchdog, ct);
        return (connection, server);
    }

    public static async Task<VmciException> ThrowsErrnoAsync(Errno expected, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<VmciException>(() => action().WaitAsync(TempFabric.Watchdog, TempFabric.Ct));
        Assert.Equal(expected, e.Errno);
        return e;
    }

    public static VmciException ThrowsErrno(Errno expected, Action action)
    {
        var e = Assert.Throws<VmciException>(action);
        Assert.Equal(expected, e.Errno);
        return e;
    }

    public static async Task<byte[]> ReadExactlyAsync(IVsockConnection connection, int count)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await connection.ReceiveAsync(buffer.AsMemory(read), TempFabric.Ct).AsTask().WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
            Assert.NotEqual(0, n);
            read += n;
        }
        return buffer;
    }

    public static Task<int> ReceiveAsync(IVsockConnection connection, Memory<byte> buffer) =>
        connection.ReceiveAsync(buffer, TempFabric.Ct).AsTask().WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
}
