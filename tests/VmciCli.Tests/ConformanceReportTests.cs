using Snapshooter.Xunit3;
using Spectre.Console;
using Spectre.Console.Testing;
using Vmci.Cli.Conformance;

namespace VmciCli.Tests;

/// <summary>Pins the report formats of <c>vmci conformance</c>: a change to any of them shows up in review.</summary>
public sealed class ConformanceReportTests
{
    private static readonly ConformanceRun Run = new(
        "sim",
        new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero),
        TimeSpan.FromSeconds(3.25),
        [
            new CaseResult("SimBindTests.Bind_WildcardPort_LastEndpointHasAssignedPort", "§2", Outcome.Passed, TimeSpan.FromMilliseconds(12), null),
            new CaseResult("SimGrammarTests.Parse_TrailingJunk_ThrowsEinval(input: \"vmci://2:5560x\")", "§1", Outcome.Passed, TimeSpan.FromMilliseconds(1), null),
            new CaseResult("SimUnbindTests.Unbind_Wildcard_ThrowsEndpointNotFound", "§2", Outcome.Failed, TimeSpan.FromMilliseconds(40), "Assert.Throws() Failure: No exception was thrown\nExpected: typeof(NetMQ.EndpointNotFoundException)"),
            new CaseResult("KernelSeamTests.Bind_OtherCid_ThrowsEaddrnotavail", "§5", Outcome.Skipped, TimeSpan.Zero, "kernel vsock runs only in the QEMU guest (VMCI_BACKEND=vsock); run eng/guest-run.sh"),
        ]);

    [Fact]
    public void Summary_CountsEachOutcome() => Assert.Equal("2 passed, 1 failed, 1 skipped", Run.Summary);

    [Fact]
    public void Table_RendersCaseClauseResultTime_SortedByClause()
    {
        var console = new TestConsole().Width(140);

        console.Write(ConformanceReport.Table(Run));

        Snapshot.Match(console.Output);
    }

    [Fact]
    public void Json_HasRunAndCases() => Snapshot.Match(ConformanceReport.Json(Run));

    [Fact]
    public void ProgressLine_ShowsIndexMarkNameAndTime()
    {
        var console = new TestConsole().Width(140);

        console.MarkupLine(ConformanceReport.ProgressLine(7, Run.Cases[2]));

        Assert.Equal("   7 ✗ SimUnbindTests.Unbind_Wildcard_ThrowsEndpointNotFound (0.040s)", console.Output.TrimEnd());
    }
}
