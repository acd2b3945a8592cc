using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>Several peers started together and always disposed together (even when one fails to start).</summary>
public sealed class PeerGroup : IAsyncDisposable
{
    private readonly List<IPeer> _peers;

    private PeerGroup(List<IPeer> peers) => _peers = peers;

    /// <summary>The peers, in the order of their CIDs.</summary>
    public IReadOnlyList<IPeer> Peers => _peers;

    /// <summary>Starts one peer per CID in parallel.</summary>
    /// <param name="launcher">The flavour.</param>
    /// <param name="fabric">The fabric.</param>
    /// <param name="cids">The peers' CIDs.</param>
    /// <param name="args">The arguments of the peer with a given CID.</param>
    /// <param name="waitForReady">Whether to wait for every peer's <c>ready</c> line.</param>
    /// <param name="ct">Cancels the starts.</param>
    /// <returns>The group.</returns>
    public static async Task<PeerGroup> StartAsync(
        IPeerLauncher launcher, TestFabric fabric, IEnumerable<uint> cids, Func<uint, string[]> args, bool waitForReady, CancellationToken ct)
    {
        var starts = cids.Select(cid => launcher.StartAsync(fabric, cid, args(cid), waitForReady, ct)).ToList();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var started in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        return new PeerGroup([.. starts.Select(s => s.Result)]);
    }

    /// <summary>Waits until every peer exits.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>How each ended, in CID order.</returns>
    public Task<PeerExit[]> WaitForExitAsync(CancellationToken ct) => Task.WhenAll(_peers.Select(p => p.WaitForExitAsync(ct)));

    /// <summary>Stops every peer (SIGTERM) and waits until each exits.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>How each ended, in CID order.</returns>
    public Task<PeerExit[]> StopAsync(CancellationToken ct) => Task.WhenAll(_peers.Select(p => p.StopAsync(ct)));

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            await peer.DisposeAsync();
        }
    }
}
