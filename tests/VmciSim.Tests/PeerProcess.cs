using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vmci;
using Vmci.Sim;

namespace VmciSim.Tests;

/// <summary>
/// A simulated machine in a child process: this test executable started again with VMCI_SIM_TEST_PEER set, which a
/// <see cref="Program.Main"/> turns into a tiny peer program instead of the xUnit runner. Its CID and fabric come from the
/// documented environment (SimNetwork.FromEnvironment). Modes: <c>listen</c> (bind *:*, print <c>PORT p</c>, echo every
/// connection until stdin closes) and <c>connect</c> (connect to VMCI_SIM_TEST_TARGET, print <c>LOCAL cid port</c>,
/// send a greeting, echo back what arrives, wait for stdin to close).
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private const string ModeVariable = "VMCI_SIM_TEST_PEER";
    private const string TargetVariable = "VMCI_SIM_TEST_TARGET";
    private readonly Process _process;

    private PeerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Starts a peer machine with CID <paramref name="cid"/> in fabric <paramref name="fabric"/>.</summary>
    public static PeerProcess Start(string mode, string? fabric, uint cid, VsockAddress? target = null, string? topology = null) =>
        Start(mode, fabric, cid.ToString(CultureInfo.InvariantCulture), target, topology, null);

    /// <summary>Starts a peer with exactly this environment.</summary>
    /// <param name="mode"><c>listen</c>, <c>connect</c> or <c>info</c> (print <c>FABRIC dir</c>, <c>CID n</c>, <c>TOPOLOGY t</c>).</param>
    /// <param name="fabric">VMCI_SIM_FABRIC, or null to leave it unset (XDG_RUNTIME_DIR and the temp directory then decide).</param>
    /// <param name="cid">VMCI_SIM_CID as text, or null to leave it unset.</param>
    /// <param name="target">VMCI_SIM_TEST_TARGET for <c>connect</c>.</param>
    /// <param name="topology">VMCI_SIM_TOPOLOGY, or null.</param>
    /// <param name="runtimeDirectory">XDG_RUNTIME_DIR, or null to leave it unset.</param>
    public static PeerProcess Start(string mode, string? fabric, string? cid, VsockAddress? target, string? topology, string? runtimeDirectory)
    {
        var dll = typeof(PeerProcess).Assembly.Location;
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.Environment[ModeVariable] = mode;
        info.Environment[SimSettings.FabricVariable] = fabric;
        info.Environment[SimSettings.CidVariable] = cid;
        info.Environment[SimSettings.TopologyVariable] = topology;
        info.Environment["XDG_RUNTIME_DIR"] = runtimeDirectory;
        if (target is { } t)
            info.Environment[TargetVariable] = $"{t.Cid}:{t.Port}";
        return new PeerProcess(Process.Start(info) ?? throw new InvalidOperationException("cannot start the peer process"));
    }

    /// <summary>The next line the peer prints; fails on end of output (with its stderr) or the watchdog.</summary>
    public async Task<string> ReadLineAsync()
    {
        var line = await _process.StandardOutput.ReadLineAsync(TempFabric.Ct).AsTask().WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
        return line ?? throw new InvalidOperationException("peer exited: " + await _process.StandardError.ReadToEndAsync(TempFabric.Ct));
    }

    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async Task<int> StopAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync(TempFabric.Ct).WaitAsync(TempFabric.Watchdog, TempFabric.Ct);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }

    /// <summary>True in a child process started by <see cref="Start(string, string?, uint, VsockAddress?, string?)"/>.</summary>
    public static bool IsPeer => Environment.GetEnvironmentVariable(ModeVariable) is { Length: > 0 };

    /// <summary>The peer program; returns its exit code.</summary>
    public static int Run()
    {
        try
        {
            return RunAsync(Environment.GetEnvironmentVariable(ModeVariable)!).GetAwaiter().GetResult();
        }
        catch (VmciException e)
        {
            Console.WriteLine($"ERR {e.Errno}");
            return 1;
        }
        finally
        {
            Console.Out.Flush();
        }
    }

    private static async Task<int> RunAsync(string mode)
    {
        var net = SimSettings.FromEnvironment().Join();
        if (mode == "info")
        {
            Console.WriteLine($"FABRIC {net.Fabric.Directory}");
            Console.WriteLine($"CID {net.LocalCid}");
            Console.WriteLine($"TOPOLOGY {net.Fabric.Topology}");
            return 0;
        }
        var stdinClosed = Task.Run(() => Console.In.ReadToEnd());
        if (mode == "listen")
        {
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
            await stdinClosed;
            return 0;
        }
        var parts = Environment.GetEnvironmentVariable(TargetVariable)!.Split(':');
        var target = new VsockAddress(uint.Parse(parts[0], CultureInfo.InvariantCulture), uint.Parse(parts[1], CultureInfo.InvariantCulture));
        using var connection = await net.ConnectAsync(target);
        Console.WriteLine($"LOCAL {connection.LocalAddress.Cid} {connection.LocalAddress.Port}");
        Console.Out.Flush();
        await connection.SendAsync(Encoding.ASCII.GetBytes($"hello from {net.LocalCid}\n"));
        _ = EchoAsync(connection);
        await stdinClosed;
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
