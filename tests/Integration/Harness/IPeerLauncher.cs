using Vmci.TestKit;

namespace Integration.Harness;

/// <summary>Starts peers of one flavour (containers or child processes) and counts them.</summary>
public interface IPeerLauncher
{
    /// <summary>Starts a peer running <c>peer ARGS</c> with context ID <paramref name="cid"/> in <paramref name="fabric"/>.</summary>
    /// <param name="fabric">The fabric the peer shares (VMCI_SIM_FABRIC).</param>
    /// <param name="cid">The peer's context ID (VMCI_SIM_CID).</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to return only once the peer printed <c>ready …</c>.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running peer.</returns>
    Task<IPeer> StartAsync(TestFabric fabric, uint cid, string[] args, bool waitForReady, CancellationToken ct);

    /// <summary>How many peers of <paramref name="fabric"/> exist, asked of the OS or the engine, not of the harness.</summary>
    /// <param name="fabric">The fabric.</param>
    /// <param name="ct">Cancels the count.</param>
    /// <returns>The number of peer processes, or of containers (running or exited but not removed).</returns>
    Task<int> CountAsync(TestFabric fabric, CancellationToken ct);
}
