using NetMQ;
using Vmci.Sim;

namespace Vmci.Transport.Tests;

/// <summary>
/// A private simulator fabric in a temporary directory (one per test), the NetMQ sockets created on it (all
/// disposed with linger 0 at the end), and the shared helpers: <see cref="Bounce"/> and receive-with-watchdog.
/// </summary>
public sealed class Fabric : IDisposable
{
    /// <summary>How long any single wait may take before the test fails.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(20);

    private readonly List<NetMQSocket> _sockets = [];
    private readonly string _directory;

    public Fabric()
    {
        _directory = Directory.CreateTempSubdirectory("vmci-tt-").FullName;
        Sim = SimFabric.Open(_directory);
        Host = Sim.Join(VmciCid.Host);
        Guest = Sim.Join(VmciCid.FirstGuest);
    }

    public SimFabric Sim { get; }

    /// <summary>CID 2.</summary>
    public SimNetwork Host { get; }

    /// <summary>CID 3.</summary>
    public SimNetwork Guest { get; }

    /// <summary>A socket on <paramref name="network"/> (default: the host), disposed with the fabric.</summary>
    public T Socket<T>(T socket, IVsockNetwork? network = null) where T : NetMQSocket
    {
        socket.Options.Linger = TimeSpan.Zero;
        socket.VmciOptions().Network = network ?? Host;
        _sockets.Add(socket);
        return socket;
    }

    /// <summary>Binds <paramref name="server"/> to <c>vmci://*:*</c> on the host, connects <paramref name="client"/> (a guest) to it; returns the bound endpoint.</summary>
    public string Link(NetMQSocket server, NetMQSocket client)
    {
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        client.VmciOptions().Network = Guest;
        client.VmciConnect(ToHost(bound));
        return bound;
    }

    /// <summary><c>vmci://*:P</c> → <c>vmci://2:P</c>.</summary>
    public static string ToHost(string bound) => "vmci://2:" + bound[(bound.LastIndexOf(':') + 1)..];

    /// <summary>libzmq's bounce: the client sends two frames, the server echoes them, both sides check.</summary>
    public static void Bounce(NetMQSocket server, NetMQSocket client)
    {
        var content = "12345678ABCDEFGH12345678abcdefgh";
        client.SendMoreFrame(content).SendFrame(content);
        var received = Receive(server);
        Assert.Equal([content, content], received.Select(f => f.ConvertToString()));
        server.SendMultipartMessage(received);
        var echoed = Receive(client);
        Assert.Equal([content, content], echoed.Select(f => f.ConvertToString()));
    }

    /// <summary>Receives one multipart message or fails after <see cref="Watchdog"/>.</summary>
    public static NetMQMessage Receive(NetMQSocket socket)
    {
        NetMQMessage? message = null;
        Assert.True(socket.TryReceiveMultipartMessage(Watchdog, ref message), "no message arrived within the watchdog");
        return message!;
    }

    /// <summary>Receives one frame as a string or fails after <see cref="Watchdog"/>.</summary>
    public static string ReceiveString(NetMQSocket socket)
    {
        Assert.True(socket.TryReceiveFrameString(Watchdog, out var text), "no frame arrived within the watchdog");
        return text!;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the watchdog fires.</summary>
    public static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Watchdog;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            Thread.Yield();
            TestContext.Current.CancellationToken.WaitHandle.WaitOne(10);
        }
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
            socket.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
