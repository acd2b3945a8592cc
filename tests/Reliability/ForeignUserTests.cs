using System.Diagnostics;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>Figure 6: another Unix user cannot connect into a fabric it does not own (0700 directories) — EACCES.</summary>
public sealed class ForeignUserTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    [Fact]
    public async Task Nobody_ConnectsToListenerSocketFile_EACCES()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess, "needs root to run a child as nobody (setpriv)");
        Assert.SkipUnless(File.Exists("/usr/bin/setpriv") && File.Exists("/usr/bin/python3"), "needs setpriv (util-linux) and python3");
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var path = Fabric.SocketPath(5, listener.LocalAddress.Port);

        var info = new ProcessStartInfo("/usr/bin/setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c",
            "import errno,socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('CONNECTED')\nexcept OSError as e: print(errno.errorcode[e.errno])", path })
            info.ArgumentList.Add(a);
        using var child = Process.Start(info)!;
        var output = await Watchdog.Guard(child.StandardOutput.ReadToEndAsync(Watchdog.Token));
        await Watchdog.Guard(child.WaitForExitAsync(Watchdog.Token));

        Assert.Equal("EACCES", output.Trim());
        TestContext.Current.TestOutputHelper?.WriteLine($"nobody -> {path}: {output.Trim()}");
    }
}
