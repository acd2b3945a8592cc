using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>Figure 6: another Unix user cannot connect into a fabric it does not own (0700 directories) — EACCES.</summary>
public sealed class ForeignUserTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    [Fact]
    public async Task SecondUser_ConnectsToListenerSocketFile_EACCES()
    {
        SecondUser.SkipUnlessAvailable();
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var path = Fabric.SocketPath(5, listener.LocalAddress.Port);

        var output = await SecondUser.PythonAsync(Watchdog,
            "import errno,socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('CONNECTED')\nexcept OSError as e: print(errno.errorcode[e.errno])", path);

        Assert.Equal("EACCES", output);
        TestContext.Current.TestOutputHelper?.WriteLine($"uid {SecondUser.Ids.Uid} -> {path}: {output}");
    }
}
