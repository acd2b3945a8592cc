using Vmci.Cli.Conformance;

namespace VmciCli.Tests;

/// <summary>The xUnit v3 JSON reporter stream becomes finished cases with their SPEC clause.</summary>
public sealed class SuiteMessageParserTests
{
    [Fact]
    public void Accept_PassedFailedSkipped_ReportsEachWithClauseAndTime()
    {
        var cases = new List<CaseResult>();
        var parser = new SuiteProcess.MessageParser(cases.Add);

        foreach (var line in new[]
        {
            "not json: a log line the suite printed",
            """{"$type":"test-case-starting","TestCaseUniqueID":"c1","TestCaseDisplayName":"Conformance.NetMq.SimBindTests.Bind_Star","Traits":{"Spec":["§2"]}}""",
            """{"$type":"test-starting","TestCaseUniqueID":"c1","TestUniqueID":"t1","TestDisplayName":"Conformance.NetMq.SimBindTests.Bind_Star"}""",
            """{"$type":"test-passed","TestCaseUniqueID":"c1","TestUniqueID":"t1","ExecutionTime":0.25}""",
            """{"$type":"test-case-starting","TestCaseUniqueID":"c2","TestCaseDisplayName":"Conformance.X.Y.Fails(n: 1)"}""",
            """{"$type":"test-failed","TestCaseUniqueID":"c2","TestUniqueID":"t2","ExecutionTime":0.5,"Messages":["boom"]}""",
            """{"$type":"test-case-starting","TestCaseUniqueID":"c3","TestCaseDisplayName":"Conformance.X.Y.Skips","Traits":{"Spec":["§5"]}}""",
            """{"$type":"test-skipped","TestCaseUniqueID":"c3","TestUniqueID":"t3","Reason":"not in the guest"}""",
        })
        {
            parser.Accept(line);
        }

        Assert.Equal(3, parser.Finished);
        Assert.Equal(new CaseResult("SimBindTests.Bind_Star", "§2", Outcome.Passed, TimeSpan.FromSeconds(0.25), null), cases[0]);
        Assert.Equal(new CaseResult("Y.Fails(n: 1)", "-", Outcome.Failed, TimeSpan.FromSeconds(0.5), "boom"), cases[1]);
        Assert.Equal(new CaseResult("Y.Skips", "§5", Outcome.Skipped, TimeSpan.Zero, "not in the guest"), cases[2]);
    }

    [Fact]
    public void Accept_DiscoveryComplete_ReportsTheCaseCount()
    {
        var totals = new List<int>();
        var parser = new SuiteProcess.MessageParser(_ => { }, totals.Add);

        parser.Accept("""{"$type":"discovery-complete","AssemblyUniqueID":"a","TestCasesToRun":192}""");

        Assert.Equal([192], totals);
    }

    [Theory]
    [InlineData("A.B.C.Method", "C.Method")]
    [InlineData("Method", "Method")]
    [InlineData("A.B.Method(x: \"a.b\")", "B.Method(x: \"a.b\")")]
    public void ShortName_DropsTheNamespace(string display, string expected) =>
        Assert.Equal(expected, SuiteProcess.MessageParser.ShortName(display));
}
