using System.Globalization;
using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// A peer machine in a child process (program <c>listeners</c>): it joins the fabric of the documented environment,
/// binds N ephemeral listeners on the seam, prints <c>LISTENING N</c> and holds them until stopped — or killed, which
/// leaves their files behind as a crashed process does.
/// </summary>
internal static class ListenersPeer
{
    /// <summary>Starts the peer as machine <paramref name="cid"/> of <paramref name="fabric"/> with <paramref name="count"/> listeners.</summary>
    public static PeerProcess Start(TestFabric fabric, uint cid, int count) =>
        PeerProcess.Start(
            "listeners",
            [count.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string?>
            {
                [SimSettings.FabricVariable] = fabric.Directory,
                [SimSettings.CidVariable] = cid.ToString(CultureInfo.InvariantCulture),
            },
            Sizes.Timeout);

    public static async Task<int> RunAsync(string[] args)
    {
        var network = SimSettings.FromEnvironment().Join();
        var count = int.Parse(args[0], CultureInfo.InvariantCulture);
        var listeners = Enumerable.Range(0, count).Select(_ => network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any))).ToList();
        Console.WriteLine($"LISTENING {listeners.Count}");
        Console.Out.Flush();
        await PeerProcess.StopRequested.ConfigureAwait(false);
        listeners.ForEach(l => l.Dispose());
        return 0;
    }
}
