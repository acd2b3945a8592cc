using System.Globalization;
using System.Text;
using Vmci;
using Vmci.Sim;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>
/// The peer machines of the multi-process tests: this test executable started again by the kit's
/// <see cref="PeerProcess"/>. A peer's CID and fabric come from the documented environment (SimSettings.FromEnvironment).
/// Programs: <c>listen</c> (bind *:*, print <c>PORT p</c>, print <c>ACCEPTED cid port</c> and echo every connection until
/// stopped), <c>connect CID:PORT</c> (print <c>LOCAL cid port</c>, send a greeting, echo what arrives until stopped),
/// <c>info</c> (print <c>FABRIC dir</c>, <c>CID n</c>, <c>TOPOLOGY t</c>). A VmciException is printed as <c>ERR errno</c>.
/// </summary>
internal static class SimPeers
{
    /// <summary>The programs, for <see cref="PeerProcess.RunIfRequested"/>.</summary>
    public static readonly IReadOnlyDictionary<string, Func<string[], Task<int>>> Programs = new Dictionary<string, Func<string[], Task<int>>>
    {
        ["listen"] = _ => ReportErrno(ListenAsync),
        ["connect"] = args => ReportErrno(() => ConnectAsync(args[0])),
        ["info"] = _ => ReportErrno(InfoAsync),
    };

    /// <summary>Starts a peer machine with CID <paramref name="cid"/> in fabric <paramref name="fabric"/>.</summary>
    public static PeerProcess Start(string program, string? fabric, uint cid, VsockAddress? target = null, string? topology = null) =>
        Start(program, fabric, cid.ToString(CultureInfo.InvariantCulture), target, topology, null);

    /// <summary>Starts a peer with exactly this environment (a null value leaves the variable unset).</summary>
    /// <param name="program"><c>listen</c>, <c>connect</c> or <c>info</c>.</param>
    /// <param name="fabric">VMCI_SIM_FABRIC (null: XDG_RUNTIME_DIR and the temp directory then decide).</param>
    /// <param name="cid">VMCI_SIM_CID as text.</param>
    /// <param name="target">Where <c>connect</c> connects.</param>
    /// <param name="topology">VMCI_SIM_TOPOLOGY.</param>
    /// <param name="runtimeDirectory">XDG_RUNTIME_DIR.</param>
    public static PeerProcess Start(string program, string? fabric, string? cid, VsockAddress? target, string? topology, string? runtimeDirectory) =>
        PeerProcess.Start(
            program,
            target is { } t ? [FormattableString.Invariant($"{t.Cid}:{t.Port}")] : [],
            new Dictionary<string, string?>
            {
                [SimSettings.FabricVariable] = fabric,
                [SimSettings.CidVariable] = cid,
                [SimSettings.TopologyVariable] = topology,
                ["XDG_RUNTIME_DIR"] = runtimeDirectory,
            });

    private static async Task<int> ReportErrno(Func<Task<int>> program)
    {
        try
        {
            return await program();
        }
        catch (VmciException e)
        {
            Console.WriteLine($"ERR {e.Errno}");
            return 1;
        }
    }

    private static Task<int> InfoAsync()
    {
        var net = SimSettings.FromEnvironment().Join();
        Console.WriteLine($"FABRIC {net.Fabric.Directory}");
        Console.WriteLine($"CID {net.LocalCid}");
        Console.WriteLine($"TOPOLOGY {net.Fabric.Topology}");
        return Task.FromResult(0);
    }

    private static async Task<int> ListenAsync()
    {
        var net = SimSettings.FromEnvironment().Join();
        using var listener = net.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        Console.WriteLine($"PORT {listener.LocalAddress.Port}");
        Console.Out.Flush();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var connection = await listener.AcceptAsync();
                Console.WriteLine($"ACCEPTED {connection.RemoteAddress.Cid} {connection.RemoteAddress.Port}");
                Console.Out.Flush();
                _ = EchoAsync(connection);
            }
        });
        await PeerProcess.StopRequested;
        return 0;
    }

    private static async Task<int> ConnectAsync(string target)
    {
        var net = SimSettings.FromEnvironment().Join();
        var parts = target.Split(':');
        var remote = new VsockAddress(uint.Parse(parts[0], CultureInfo.InvariantCulture), uint.Parse(parts[1], CultureInfo.InvariantCulture));
        using var connection = await net.ConnectAsync(remote);
        Console.WriteLine($"LOCAL {connection.LocalAddress.Cid} {connection.LocalAddress.Port}");
        Console.Out.Flush();
        await connection.SendAsync(Encoding.ASCII.GetBytes($"hello from {net.LocalCid}\n"));
        _ = EchoAsync(connection);
        await PeerProcess.StopRequested;
        return 0;
    }

    private static async Task EchoAsync(IVsockConnection connection)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await connection.ReceiveAsync(buffer)) > 0)
                await connection.SendAsync(buffer.AsMemory(0, n));
        }
        catch (VmciException)
        {
            // The parent went away.
        }
    }
}
