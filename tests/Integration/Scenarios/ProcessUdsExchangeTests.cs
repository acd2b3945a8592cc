using Integration.Harness;
using Integration.Peer;

namespace Integration.Scenarios;

/// <summary>The exchange scenarios with peers as plain child processes: runs everywhere, no Docker.</summary>
public sealed class ProcessUdsExchangeTests : UdsExchangeScenarios
{
    /// <inheritdoc/>
    protected override async Task<IPeer> StartPeerAsync(Fabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct) =>
        await PeerProcess.StartAsync(fabric, cid, args, waitForReady, ct);

    /// <inheritdoc/>
    /// <remarks>Counts the processes whose environment names this fabric (Linux /proc).</remarks>
    protected override Task<int> CountPeersAsync(Fabric fabric, CancellationToken ct)
    {
        var marker = $"{PeerProgram.FabricVariable}={fabric.Path}";
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ"));
                if (environment.Split('\0').Contains(marker, StringComparer.Ordinal))
                {
                    count++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not a process, gone meanwhile, or not ours.
            }
        }

        return Task.FromResult(count);
    }
}
