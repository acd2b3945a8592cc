using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Sim;
using Vmci.TestKit;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>
/// A peer machine in a child process (the kit's <see cref="PeerProcess"/>, program <c>echo</c>): it joins the fabric of
/// the documented environment (VMCI_SIM_FABRIC, VMCI_SIM_CID), binds a NetMQ REP socket at <c>vmci://*:PORT</c> (its
/// argument, <c>*</c> when absent), prints <c>PORT p</c> and echoes every request until stopped (or killed).
/// </summary>
internal static class EchoPeer
{
    /// <summary>The programs of this executable, for <see cref="PeerProcess.RunIfRequested"/>.</summary>
    public static readonly IReadOnlyDictionary<string, Func<string[], Task<int>>> Programs =
        new Dictionary<string, Func<string[], Task<int>>> { ["echo"] = args => Task.FromResult(Run(args)) };

    /// <summary>Starts the echo peer as machine <paramref name="cid"/> of <paramref name="fabric"/>, on <paramref name="port"/> (null: any).</summary>
    public static PeerProcess Start(TestFabric fabric, uint cid, uint? port) =>
        PeerProcess.Start(
            "echo",
            port is { } p ? [p.ToString(CultureInfo.InvariantCulture)] : [],
            new Dictionary<string, string?>
            {
                [SimSettings.FabricVariable] = fabric.Directory,
                [SimSettings.CidVariable] = cid.ToString(CultureInfo.InvariantCulture),
                [VmciSettings.BackendVariable] = "sim",
            },
            Sizes.Timeout);

    /// <summary>Reads the peer's <c>PORT p</c> line.</summary>
    public static async Task<uint> ReadPortAsync(PeerProcess peer, CancellationToken ct)
    {
        var line = await peer.ReadLineAsync(ct);
        Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
        return uint.Parse(line[5..], CultureInfo.InvariantCulture);
    }

    private static int Run(string[] args)
    {
        var network = SimSettings.FromEnvironment().Join();
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        rep.VmciOptions().Network = network;
        rep.VmciBind("vmci://*:" + (args is [var port] ? port : "*"));
        var bound = rep.VmciLastEndpoint()!;
        Console.WriteLine("PORT " + bound[(bound.LastIndexOf(':') + 1)..]);
        Console.Out.Flush();
        while (!PeerProcess.StopRequested.IsCompleted)
        {
            var message = new NetMQMessage();
            if (rep.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message))
                rep.SendMultipartMessage(message);
        }
        return 0;
    }
}
