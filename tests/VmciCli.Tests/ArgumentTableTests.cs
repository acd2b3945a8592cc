using Vmci.Cli;
using Vmci.Cli.Shell;

namespace VmciCli.Tests;

/// <summary>
/// The argument table of the <c>vmci</c> tool: every option and argument with its range. A value out of range is a
/// usage error (exit code 2): one line naming the input and the rule, nothing run. In-process: only the parser runs.
/// </summary>
public sealed class ArgumentTableTests
{
    /// <summary>Arguments, and what the one line must name (the input and the rule).</summary>
    public static TheoryData<string, string, string> OutOfRange() => new()
    {
        { "ping tcp://a:b", "endpoint 'tcp://a:b'", "EPROTONOSUPPORT" },
        { "ping vmci://2:x", "endpoint 'vmci://2:x'", "not a vmci:// endpoint" },
        { "ping vmci://*:5555", "endpoint 'vmci://*:5555'", "needs a CID" },
        { "ping vmci://2:*", "endpoint 'vmci://2:*'", "needs a port number" },
        { "ping vmci://2:5555 -c -3", "--count '-3'", "must be 1 to 1000000 requests" },
        { "ping vmci://2:5555 -c 0", "--count '0'", "must be 1 to 1000000 requests" },
        { "ping vmci://2:5555 -i -5", "--interval '-5'", "must be 0 to 3600000 milliseconds" },
        { "ping vmci://2:5555 -i -1", "--interval '-1'", "must be 0 to 3600000 milliseconds" },
        { "ping vmci://2:5555 -s 2147483647", "--size '2147483647'", "must be 8 to 16777216 bytes" },
        { "ping vmci://2:5555 -s 7", "--size '7'", "must be 8 to 16777216 bytes" },
        { "ping vmci://2:5555 -W -1", "--timeout '-1'", "must be 1 to 3600000 milliseconds" },
        { "ping vmci://2:5555 -W 0", "--timeout '0'", "must be 1 to 3600000 milliseconds" },
        { "ping vmci://2:5555 --backend kvm", "--backend 'kvm'", "must be one of sim, vsock" },
        { "ping vmci://2:5555 --cid 1", "--cid '1'", "must be a machine's CID" },
        { "ping vmci://2:5555 --cid 0", "--cid '0'", "must be a machine's CID" },
        { "ping vmci://2:5555 --cid 4294967295", "--cid '4294967295'", "must be a machine's CID" },
        { "ping vmci://2:5555 --fabric=", "'--fabric'", "Required argument missing" },
        { "echo --bind vmci://2", "--bind 'vmci://2'", "not a vmci:// endpoint" },
        { "echo --bind vmci://*:* --count 0", "--count '0'", "must be 1 to 2147483647 requests" },
        { "echo --bind vmci://*:* --max-size 0", "--max-size '0'", "must be 1 to 1073741824 bytes" },
        { "echo --bind vmci://*:* --max-size 1073741825", "--max-size '1073741825'", "must be 1 to 1073741824 bytes" },
        { "cat vmci://*:5555", "endpoint 'vmci://*:5555'", "needs a CID" },
        { "cat --listen vmci://2:5555x", "endpoint 'vmci://2:5555x'", "not a vmci:// endpoint" },
        { "cid --cid 1", "--cid '1'", "must be a machine's CID" },
        { "conformance --backend qemu", "--backend 'qemu'", "must be one of sim, vsock" },
        { "conformance --junit /nonexistent-dir/r.xml", "--junit '/nonexistent-dir/r.xml'", "does not exist" },
        { "conformance --filter=", "'--filter'", "Required argument missing" },
        { "sim status --fabric=", "'--fabric'", "Required argument missing" },
        { "sim fault add frob --cid 3", "kind 'frob'", "must be one of latency, bandwidth" },
        { "sim fault add reset --cid 1", "--cid '1'", "must be a machine's CID" },
        { "sim fault add reset --cid 3 --peer 3", "--peer '3'", "must differ from --cid" },
        { "sim fault add latency --cid 3 --ms -1", "--ms '-1'", "must be 0 to 3600000 milliseconds" },
        { "sim fault add latency --cid 3 --ms 5 --jitter 10", "--jitter '10'", "must be at most --ms (5)" },
        { "sim fault add latency --cid 3", "latency needs --ms", "milliseconds" },
        { "sim fault add bandwidth --cid 3 --bytes-per-second 0", "--bytes-per-second '0'", "must be 1 to" },
        { "sim fault add bandwidth --cid 3", "bandwidth needs --bytes-per-second", "" },
        { "sim fault add pause --cid 3 --ms 4", "--ms", "applies to latency only" },
        { "sim fault add pause --cid 3 --peer 2", "--peer", "applies to faults between two machines" },
        { "sim fault add cid-change --cid 3", "cid-change needs --to", "" },
        { "sim fault add cid-change --cid 3 --to 3", "--to '3'", "must differ from --cid" },
        { "sim fault add cid-change --cid 3 --to 0", "--to '0'", "must be a machine's CID" },
        { "sim fault clear --kind frob", "--kind 'frob'", "must be one of" },
        { "sim fault pause --cid 4294967295", "--cid '4294967295'", "must be a machine's CID" },
        { "sim fault pause", "--cid", "required" },
        { "frob", "'frob'", "Unrecognized command" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Parse_OutOfRange_OneLineNamingInputAndRule(string args, string input, string rule)
    {
        var errors = CommandHost.UsageErrors(Program.CreateRoot().Parse(args));

        Assert.NotEmpty(errors);
        var line = Assert.Single(errors, e => e.Contains(input, StringComparison.Ordinal));
        Assert.Contains(rule, line, StringComparison.Ordinal);
        Assert.StartsWith("vmci: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.EndsWith("--help)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ping vmci://2:5555 -c 1000000 -i 0 -s 8 -W 1")]
    [InlineData("ping vmci://@:5555 -c 1 -i 3600000 -s 16777216 -W 3600000 --cid 4294967294 --backend sim")]
    [InlineData("echo --bind vmci://*:* --count 1 --max-size 1")]
    [InlineData("echo --bind vmci://@:5555 --max-size 1073741824")]
    [InlineData("cat --listen vmci://*:*")]
    [InlineData("cat vmci://1:5555")]
    [InlineData("cid --cid 2")]
    [InlineData("sim fault add latency --cid 3 --ms 5 --jitter 5 --peer 2")]
    [InlineData("sim fault add bandwidth --cid 3 --bytes-per-second 1")]
    [InlineData("sim fault add cid-change --cid 3 --to 7")]
    [InlineData("sim fault clear --cid 3 --kind cid-change")]
    [InlineData("sim prune --fabric /tmp/x")]
    public void Parse_AtTheLimits_Accepted(string args)
    {
        Assert.Empty(CommandHost.UsageErrors(Program.CreateRoot().Parse(args)));
    }

    [Fact]
    public void Classify_EachKindOfFailure_ItsExitCode()
    {
        Assert.Equal(ExitCodes.Usage, CommandHost.Classify(Vmci.VmciError.Create(Vmci.Errno.EINVAL, Vmci.VmciOperation.Configure, "VMCI_SIM_CID=x")).Code);
        Assert.Equal(ExitCodes.CouldNotRun, CommandHost.Classify(Vmci.VmciError.Create(Vmci.Errno.EACCES, Vmci.VmciOperation.OpenFabric, "/f")).Code);
        Assert.Equal(ExitCodes.CouldNotRun, CommandHost.Classify(new UnauthorizedAccessException("denied")).Code);
        Assert.Equal(ExitCodes.Failed, CommandHost.Classify(Vmci.VmciError.Create(Vmci.Errno.ECONNRESET, Vmci.VmciOperation.Connect, "vmci://2:5")).Code);
        Assert.Equal(ExitCodes.CouldNotRun, CommandHost.Classify(new InvalidOperationException("bug")).Code);
    }
}
