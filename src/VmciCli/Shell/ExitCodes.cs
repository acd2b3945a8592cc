namespace Vmci.Cli.Shell;

/// <summary>
/// The exit codes of every <c>vmci</c> command (docs: README, "The vmci tool"), the convention of long-running tools:
/// one code per kind of outcome, never a count.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked (for <c>conformance</c>: every case passed or was skipped).</summary>
    public const int Success = 0;

    /// <summary>Failures found (conformance cases failed) or the operation failed (a connect refused, a ping unanswered, a bind in use).</summary>
    public const int Failed = 1;

    /// <summary>A usage error: an unknown command or option, a value out of its range, a malformed endpoint or variable.</summary>
    public const int Usage = 2;

    /// <summary>The command could not run: the fabric or the backend is unusable, the suite is missing, an internal error.</summary>
    public const int CouldNotRun = 3;
}
