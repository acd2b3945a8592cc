namespace Integration.Harness;

/// <summary>A running peer program (see <see cref="Peer.PeerProgram"/>): a container or a child process.</summary>
public interface IPeer : IAsyncDisposable
{
    /// <summary>The peer's VMCI context ID.</summary>
    uint Cid { get; }

    /// <summary>The <c>ready …</c> line the peer printed, when it was started waiting for it; else null.</summary>
    string? ReadyLine { get; }

    /// <summary>Waits until the peer exits.</summary>
    /// <param name="ct">Cancels the wait (the peer keeps running until disposed).</param>
    /// <returns>The exit code and everything the peer wrote to standard output.</returns>
    Task<PeerExit> WaitForExitAsync(CancellationToken ct);

    /// <summary>Stops the peer as a VM is shut down (SIGTERM: a ZeroMQ role reports and exits 0), then waits until it exits.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>The exit code and everything the peer wrote.</returns>
    Task<PeerExit> StopAsync(CancellationToken ct);
}

/// <summary>How a peer ended.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Everything written to standard output, lines separated by <c>\n</c>.</param>
/// <param name="Error">Everything written to standard error.</param>
public sealed record PeerExit(long ExitCode, string Output, string Error)
{
    /// <summary>The output's lines, without empty ones.</summary>
    public IReadOnlyList<string> Lines =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
