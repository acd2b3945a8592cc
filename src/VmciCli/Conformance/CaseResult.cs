using Vmci.TestKit.Agent;

namespace Vmci.Cli.Conformance;

/// <summary>The outcome of one conformance case.</summary>
internal enum Outcome
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>One finished conformance case, as the report shows it.</summary>
/// <param name="Case">The test's display name, without its namespace.</param>
/// <param name="Clause">The SPEC clause it checks (its <c>Spec</c> trait), or "-".</param>
/// <param name="Outcome">Passed, failed or skipped.</param>
/// <param name="Duration">How long it ran.</param>
/// <param name="Message">The failure message or the skip reason; null when it passed.</param>
internal sealed record CaseResult(string Case, string Clause, Outcome Outcome, TimeSpan Duration, string? Message);

/// <summary>Where a run happened: the backend, the machine and the tool, for the report's title and the JUnit properties.</summary>
/// <param name="Backend"><c>sim</c> or <c>vsock</c>.</param>
/// <param name="Host">The machine's host name.</param>
/// <param name="Cid">The machine's CID on that backend, when known.</param>
/// <param name="Kernel">The kernel release (<c>uname -r</c>).</param>
/// <param name="ToolVersion">The <c>vmci</c> tool's version.</param>
internal sealed record RunInfo(string Backend, string Host, uint? Cid, string Kernel, string ToolVersion)
{
    /// <summary><c>sim on build-7 (CID 2)</c>.</summary>
    public string Title => Cid is { } cid ? $"{Backend} on {Host} (CID {cid})" : $"{Backend} on {Host}";
}

/// <summary>A whole run: where, when it started, and every case in the order they finished.</summary>
internal sealed record ConformanceRun(RunInfo Info, DateTimeOffset Started, TimeSpan Elapsed, IReadOnlyList<CaseResult> Cases)
{
    /// <summary>With <c>--peer</c>: the two machines (this one, the agent's); null for a one-machine run.</summary>
    public (PeerMachine Local, PeerMachine Peer)? Machines { get; init; }

    public int Passed => Cases.Count(c => c.Outcome == Outcome.Passed);

    public int Failed => Cases.Count(c => c.Outcome == Outcome.Failed);

    public int Skipped => Cases.Count(c => c.Outcome == Outcome.Skipped);

    /// <summary>The closing line: <c>N passed, N failed, N skipped</c>.</summary>
    public string Summary => $"{Passed} passed, {Failed} failed, {Skipped} skipped";
}
