using Integration.Peer;
using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>Peers as plain child processes of the test: runs everywhere, no Docker.</summary>
public sealed class ProcessPeers : IPeerLauncher
{
    /// <inheritdoc/>
    public async Task<IPeer> StartAsync(TestFabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct) =>
        await ProcessPeer.StartAsync(fabric, cid, args, waitForReady, ct);

    /// <inheritdoc/>
    /// <remarks>Counts the processes whose environment names this fabric (Linux /proc).</remarks>
    public Task<int> CountAsync(TestFabric fabric, CancellationToken ct)
    {
        var marker = $"{PeerProgram.FabricVariable}={fabric.Directory}";
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
