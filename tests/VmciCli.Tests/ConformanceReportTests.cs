using Snapshooter.Xunit3;
using Spectre.Console;
using Spectre.Console.Testing;
using Vmci.Cli.Conformance;

namespace VmciCli.Tests;

/// <summary>Pins the report formats of <c>vmci conformance</c>: a change to any of them shows up in review.</summary>
public sealed class ConformanceReportTests
{
    private static readonly ConformanceRun Run = new(
        new RunInfo("sim", "build-7", 2, "6.1.0-28-amd64", "1.0.0"),
        new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero),
        TimeSpan.FromSeconds(3.25),
        [
            new CaseResult("SimBindTests.Bind_WildcardPort_LastEndpointHasAssignedPort", "§2", Outcome.Passed, TimeSpan.FromMilliseconds(12), null),
            new CaseResult("SimGrammarTests.Parse_TrailingJunk_ThrowsEinval(input: \"vmci://2:5560x\")", "§1", Outcome.Passed, TimeSpan.FromMilliseconds(1), null),
            new CaseResult("SimUnbindTests.Unbind_Wildcard_ThrowsEndpointNotFound", "§2", Outcome.Failed, TimeSpan.FromMilliseconds(40), "Assert.Throws() Failure: No exception was thrown\nExpected: typeof(NetMQ.EndpointNotFoundException)"),
            new CaseResult("SimSeamTests.Bind_OtherCid_ThrowsEaddrnotavail", "§5", Outcome.Skipped, TimeSpan.Zero, "needs a second simulated machine"),
            new CaseResult("SimBindTests.Bind_Twice(type: \"PAIR\")", "§2,§8", Outcome.Passed, TimeSpan.FromMilliseconds(3), null),
            new CaseResult("SimBindTests.Bind_Twice(type: \"PAIR\")", "§2,§8", Outcome.Passed, TimeSpan.FromMilliseconds(4), null),
            new CaseResult("SimNetMqTests.Cap_Refused", "limits", Outcome.Passed, TimeSpan.FromMilliseconds(5), null),
        ]);

    [Fact]
    public void Summary_CountsEachOutcome() => Assert.Equal("5 passed, 1 failed, 1 skipped", Run.Summary);

    [Fact]
    public void Clauses_OneRowPerClause_InSpecOrder()
    {
        var console = new TestConsole().Width(140);

        console.Write(ConformanceReport.Clauses(Run));

        Snapshot.Match(console.Output);
    }

    [Fact]
    public void Failures_EachFailedCaseWithItsWholeMessage()
    {
        var console = new TestConsole().Width(140);

        foreach (var line in ConformanceReport.Failures(Run))
            console.MarkupLine(line);

        Assert.Equal(
            [
                "FAIL §2 SimUnbindTests.Unbind_Wildcard_ThrowsEndpointNotFound (0.040s)",
                "     Assert.Throws() Failure: No exception was thrown",
                "     Expected: typeof(NetMQ.EndpointNotFoundException)",
            ],
            console.Lines.Select(l => l.TrimEnd()).Where(l => l.Length > 0));
    }

    [Fact]
    public void Cases_EveryCaseWithClauseResultTime()
    {
        var console = new TestConsole().Width(140);

        console.Write(ConformanceReport.Cases(Run));

        Snapshot.Match(console.Output);
    }

    [Fact]
    public void Json_HasWhereWhenAndCases() => Snapshot.Match(ConformanceReport.Json(Run));

    [Fact]
    public void Json_CaseNamesAreUnique()
    {
        using var json = System.Text.Json.JsonDocument.Parse(ConformanceReport.Json(Run));
        var names = json.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("SimBindTests.Bind_Twice(type: \"PAIR\") #2", names);
    }

    [Fact]
    public void JUnit_SuitesNamedByBackendAndMachine_WithProperties()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vmci-junit-").FullName, "r.xml");
        File.WriteAllText(path, """<testsuites name="Test results"><testsuite name="/somewhere/Conformance.dll" hostname="localhost" tests="1"><testcase name="a" classname="C" /></testsuite></testsuites>""");

        JUnitReport.Annotate(path, Run.Info);

        var suite = System.Xml.Linq.XDocument.Load(path).Root!.Element("testsuite")!;
        Assert.Equal("zmq_vmci(7) conformance: sim on build-7 (CID 2)", suite.Attribute("name")!.Value);
        Assert.Equal("build-7", suite.Attribute("hostname")!.Value);
        Assert.Equal(
            [("backend", "sim"), ("host", "build-7"), ("cid", "2"), ("kernel", "6.1.0-28-amd64"), ("tool-version", "1.0.0")],
            suite.Element("properties")!.Elements("property").Select(p => (p.Attribute("name")!.Value, p.Attribute("value")!.Value)));
        Assert.Single(suite.Elements("testcase"));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void JUnit_NotXml_InvalidDataNamingTheFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vmci-junit-").FullName, "r.xml");
        File.WriteAllText(path, "not xml");

        var e = Assert.Throws<InvalidDataException>(() => JUnitReport.Annotate(path, Run.Info));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void ProgressLine_ShowsIndexMarkNameAndTime()
    {
        var console = new TestConsole().Width(140);

        console.MarkupLine(ConformanceReport.ProgressLine(7, Run.Cases[2]));

        Assert.Equal("   7 ✗ SimUnbindTests.Unbind_Wildcard_ThrowsEndpointNotFound (0.040s)", console.Output.TrimEnd());
    }
}
