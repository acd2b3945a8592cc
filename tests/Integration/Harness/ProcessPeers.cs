using Integration.Peer;

namespace Integration.Harness;

/// <summary>Peers as plain child processes of the test: runs everywhere, no Docker.</summary>
public sealed class ProcessPeers : IPeerLauncher
{
    /// <inheritdoc/>
    public async Task<IPeer> StartAsync(Fabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct) =>
        await PeerProcess.StartAsync(fabric, cid, args, waitForReady, ct);

    /// <inheritdoc/>
    /// <remarks>Counts the processes whose environment names this fabric (Linux /proc).</remarks>
    public Task<int> CountAsync(Fabric fabric, CancellationToken ct)
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
