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

/// <summary>A whole run: the backend, when it started, and every case in the order they finished.</summary>
internal sealed record ConformanceRun(string Backend, DateTimeOffset Started, TimeSpan Elapsed, IReadOnlyList<CaseResult> Cases)
{
    /// <summary>With <c>--peer</c>: the two machines (this one, the agent's); null for a one-machine run.</summary>
    public (PeerMachine Local, PeerMachine Peer)? Machines { get; init; }

    public int Passed => Cases.Count(c => c.Outcome == Outcome.Passed);

    public int Failed => Cases.Count(c => c.Outcome == Outcome.Failed);

    public int Skipped => Cases.Count(c => c.Outcome == Outcome.Skipped);

    /// <summary>The closing line: <c>N passed, N failed, N skipped</c>.</summary>
    public string Summary => $"{Passed} passed, {Failed} failed, {Skipped} skipped";
}
