using System.Globalization;
using Integration.Peer;
using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>
/// A peer run as a plain child process of the test: this same executable started again by the kit's
/// <see cref="PeerProcess"/> as the peer program <c>peer</c> (see <see cref="Program.Programs"/>).
/// </summary>
public sealed class ProcessPeer : IPeer
{
    private readonly PeerProcess _process;

    private ProcessPeer(uint cid, PeerProcess process)
    {
        Cid = cid;
        _process = process;
    }

    /// <inheritdoc/>
    public uint Cid { get; }

    /// <inheritdoc/>
    public string? ReadyLine { get; private set; }

    /// <summary>Starts a peer; with <paramref name="waitForReady"/>, returns once it printed <c>ready</c>.</summary>
    /// <param name="fabric">The fabric the peer belongs to (VMCI_SIM_FABRIC).</param>
    /// <param name="cid">The peer's context ID (VMCI_SIM_CID).</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to wait for the <c>ready</c> line.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>The running peer.</returns>
    public static async Task<ProcessPeer> StartAsync(TestFabric fabric, uint cid, IEnumerable<string> args, bool waitForReady, CancellationToken ct)
    {
        var environment = new Dictionary<string, string?>
        {
            [PeerProgram.CidVariable] = cid.ToString(CultureInfo.InvariantCulture),
            [PeerProgram.FabricVariable] = fabric.Directory,
        };
        var peer = new ProcessPeer(cid, PeerProcess.Start(Program.PeerProgramName, args, environment, Scenario.Timeout));
        try
        {
            while (waitForReady && peer.ReadyLine is null)
            {
                var line = await peer._process.ReadLineAsync(ct);
                if (line.StartsWith("ready", StringComparison.Ordinal))
                    peer.ReadyLine = line;
            }
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<PeerExit> WaitForExitAsync(CancellationToken ct)
    {
        var code = await _process.WaitForExitAsync(ct);
        return new PeerExit(code, string.Concat(_process.Output.Select(line => line + "\n")), _process.Error);
    }

    /// <inheritdoc/>
    /// <remarks>SIGTERM, as <c>docker stop</c> sends a container: a ZeroMQ role reports and exits 0.</remarks>
    public Task<PeerExit> StopAsync(CancellationToken ct)
    {
        if (!_process.HasExited)
            Posix.Terminate(_process.Id);
        return WaitForExitAsync(ct);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
