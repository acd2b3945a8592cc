using System.Globalization;
using System.Runtime.Versioning;
using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Issue #16, as a second user (<see cref="SecondUser"/>) against this one (root in CI): the neighbour creates the
/// default fabric first, plants links where the simulator writes, reads or prunes, and claims CIDs it does not hold.
/// Each case once let the neighbour write root's files, capture root's connections or impersonate root's machine; now
/// each is refused (naming the path and the rule) or the link is replaced, never followed. A fabric shared on purpose
/// is a directory with mode 1777 (sticky, like /tmp).
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class PlantedLinkTests : FabricTestBase
{
    private readonly string _private = Directory.CreateTempSubdirectory("vmci-root-only-").FullName;

    public PlantedLinkTests()
        : base(new TestFabric(), Sizes.StartWatchdog())
    {
        File.WriteAllText(Target, "root only\n");
        File.SetUnixFileMode(Target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>A file only this user may read or write: what the planted links point to.</summary>
    private string Target => Path.Combine(_private, "secret");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            Directory.Delete(_private, recursive: true);
        base.Dispose(disposing);
    }

    /// <summary>The test's fabric shared on purpose: mode 1777, opened again so that its modes admit others.</summary>
    private SimFabric Share()
    {
        File.SetUnixFileMode(Fabric.Directory, (UnixFileMode)0x3FF); // 01777
        return SimFabric.Open(Fabric.Directory);
    }

    [Theory]
    [InlineData("mkdir -m 700 \"$0\"", "belongs to uid")]
    [InlineData("ln -s /tmp \"$0\"", "symbolic link")]
    public async Task DefaultFabric_MadeFirstBySecondUser_RefusedEACCES(string plant, string rule)
    {
        SecondUser.SkipUnlessAvailable();
        // The default fabric is $XDG_RUNTIME_DIR/vmci-sim: a private "runtime directory", sticky and open to all like /tmp.
        var runtime = Path.Combine(_private, "run");
        Directory.CreateDirectory(runtime);
        File.SetUnixFileMode(_private, (UnixFileMode)0x1ED); // 0755: the neighbour may pass
        File.SetUnixFileMode(runtime, (UnixFileMode)0x3FF);   // 01777
        var planted = Path.Combine(runtime, "vmci-sim");
        await SecondUser.ShellAsync(Watchdog, plant, planted);

        await using var victim = PeerProcess.Start("echo", [], new Dictionary<string, string?>
        {
            ["XDG_RUNTIME_DIR"] = runtime,
            [SimSettings.FabricVariable] = null,
            [SimSettings.CidVariable] = "2",
            ["VMCI_BACKEND"] = "sim",
        }, Sizes.Timeout);
        var code = await victim.WaitForExitAsync(Watchdog.Token);

        Assert.NotEqual(0, code);
        Assert.Contains("EACCES", victim.Error, StringComparison.Ordinal);
        Assert.Contains(planted, victim.Error, StringComparison.Ordinal);
        Assert.Contains(rule, victim.Error, StringComparison.Ordinal);
        Assert.Empty(victim.Output);
    }

    [Theory]
    [InlineData("ln -s \"$1\" \"$0/7\"", "ELOOP")]
    [InlineData("mkdir -m 755 \"$0/7\"", "EACCES")]
    [InlineData("touch \"$0/7\"", "ENOTDIR")]
    public async Task SharedFabric_MachinePlantedBySecondUser_JoinRefused_TargetUntouched(string plant, string errno)
    {
        SecondUser.SkipUnlessAvailable();
        var shared = Share();
        await SecondUser.ShellAsync(Watchdog, plant, Fabric.Directory, _private);

        var e = Assert.ThrowsAny<VmciException>(() => shared.Join(7).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any)).Dispose());

        Assert.Equal(errno, e.Errno.ToString());
        Assert.Contains(Path.Combine(Fabric.Directory, "7"), e.Message, StringComparison.Ordinal);
        Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(_private).Select(Path.GetFileName));
        Assert.Equal("root only\n", await File.ReadAllTextAsync(Target, Watchdog.Token));
    }

    [Fact]
    public async Task SharedFabric_FaultsAndTopologyLinkedBySecondUser_LinkReplacedNotFollowed()
    {
        SecondUser.SkipUnlessAvailable();
        var shared = Share();
        await SecondUser.ShellAsync(Watchdog, "ln -s \"$1\" \"$0/faults.json\"; ln -s \"$1\" \"$0/topology\"", Fabric.Directory, Target);

        // A write replaces the name (a new file renamed over it); a read refuses to follow it (ELOOP): never the target.
        var addFault = Record.Exception(() => shared.Faults.Add(new SimFault(SimFaultKind.Pause, 5)));
        var setTopology = Record.Exception(() => shared.Topology = SimTopology.Vmware);

        Assert.True(addFault is null or VmciException { Errno: Errno.ELOOP }, addFault?.ToString());
        Assert.True(setTopology is null or VmciException { Errno: Errno.ELOOP }, setTopology?.ToString());
        Assert.Equal("root only\n", await File.ReadAllTextAsync(Target, Watchdog.Token));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Target));
    }

    [Fact]
    public async Task SharedFabric_LinksInSecondUsersMachine_PruneLeavesThemAndTheTarget()
    {
        SecondUser.SkipUnlessAvailable();
        var shared = Share();
        shared.Join(3).Listen(new VsockAddress(VmciCid.Any, 7000)).Dispose();
        await SecondUser.RunAsync(Watchdog, "/bin/sh", "-ec",
            "mkdir -m 755 \"$0/9\"; ln -s \"$1\" \"$0/9/7000\"; ln -s \"$1\" \"$0/9/7000.bound\"; ln -s \"$1\" \"$0/9/.caaaaaaaa\"", Fabric.Directory, Target);

        var removed = shared.Prune();

        Assert.DoesNotContain(removed, path => path.StartsWith('9'));
        Assert.Equal("root only\n", await File.ReadAllTextAsync(Target, Watchdog.Token));
        Assert.True(File.Exists(Target));
    }

    /// <summary>
    /// The neighbour's raw connector (python3): bound in its own machine directory it may claim that machine's CID and
    /// no other; bound outside the fabric under a path that ends like a machine directory, nothing.
    /// </summary>
    [Fact]
    public async Task SecondUser_ClaimsACidItDoesNotHold_RefusedEPERM()
    {
        SecondUser.SkipUnlessAvailable();
        var shared = Share();
        using var listener = shared.Join(3).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = listener.LocalAddress.Port.ToString(CultureInfo.InvariantCulture);
        const string Claim = """
            import os,socket,sys,tempfile
            fabric,port=sys.argv[1],sys.argv[2]
            os.makedirs(fabric+'/9',mode=0o755,exist_ok=True)
            elsewhere=tempfile.mkdtemp()+'/9'
            os.makedirs(elsewhere)
            def claim(bound,cid):
                s=socket.socket(socket.AF_UNIX)
                s.bind(bound)
                s.connect(fabric+'/3/'+port)
                s.sendall(('VMCI1 %d 1000 3 %s\n'%(cid,port)).encode())
                r=b''
                while len(r)<7:
                    d=s.recv(7-len(r))
                    if not d: break
                    r+=d
                s.close()
                return r.decode().strip() or 'closed'
            print(claim(fabric+'/9/.caaaaaaaa',2), claim(fabric+'/9/.cbbbbbbbb',9), claim(elsewhere+'/.ccccccccc',9), sep=',')
            """;

        var replies = await SecondUser.PythonAsync(Watchdog, Claim, Fabric.Directory, port);

        // EPERM is errno 1: claiming the host's CID 2; its own CID 9 accepted; 9 from outside the fabric refused.
        Assert.Equal("ER 001,OK 000,ER 001", replies);
        using var accepted = await Watchdog.Guard(listener.AcceptAsync(Watchdog.Token));
        Assert.Equal(new VsockAddress(9, 1000), accepted.RemoteAddress);
    }
}
