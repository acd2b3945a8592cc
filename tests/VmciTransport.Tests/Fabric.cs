using NetMQ;
using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>
/// The test kit's fabric with the two machines these tests use (the host, CID 2, and a guest, CID 3), the NetMQ sockets
/// created on it (all disposed with linger 0 at the end) and the test's watchdog.
/// </summary>
public sealed class Fabric : IDisposable
{
    private readonly List<NetMQSocket> _sockets = [];
    private readonly TestFabric _fabric = new FabricBuilder().WithMachines(VmciCid.Host, VmciCid.FirstGuest).Build();

    /// <summary>The simulator's fabric (faults, other machines).</summary>
    public SimFabric Sim => _fabric.Fabric;

    /// <summary>CID 2.</summary>
    public SimNetwork Host => _fabric.Host;

    /// <summary>CID 3.</summary>
    public SimNetwork Guest => _fabric.Machine(VmciCid.FirstGuest);

    /// <summary>The test's watchdog: waits for relay state through <see cref="Watchdog.Until"/>.</summary>
    public Watchdog Watchdog { get; } = Watchdog.Start(TestContext.Current.CancellationToken);

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

    public void Dispose()
    {
        foreach (var socket in _sockets)
            socket.Dispose();
        Watchdog.Dispose();
        _fabric.Dispose();
    }
}
