using System.Globalization;
using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Issue #16: a killed listener's files stayed until someone bound that very port — 20 killed ephemeral listeners left
/// 40 files and 20 stale rows in <c>vmci sim status</c> for good. Here a peer process holding 20 listeners is killed
/// (SIGKILL, no cleanup); the next bind on that machine, or <see cref="SimFabric.Prune"/> (<c>vmci sim prune</c>, and
/// <c>vmci sim status</c> before it lists), removes every file it left.
/// </summary>
public sealed class StalePruneTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    private const int Listeners = 20;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KilledListeners_Pruned_NoFileLeft(bool byBind)
    {
        await using (var peer = ListenersPeer.Start(Fabric, 5, Listeners))
        {
            Assert.Equal($"LISTENING {Listeners}", await peer.ReadLineAsync(Watchdog.Token));
            Assert.Equal(2 * Listeners, MachineFiles(5).Length); // a socket file and a .bound file each
            peer.Kill();
        }
        Assert.Equal(Listeners, Fabric.Fabric.Snapshot().Single(m => m.Cid == 5).Listeners.Count(l => l.IsStale));

        if (byBind)
        {
            Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any)).Dispose();
        }
        else
        {
            var removed = Fabric.Fabric.Prune();
            Assert.Equal(2 * Listeners, removed.Count);
        }

        Assert.Empty(MachineFiles(5));
        Assert.Empty(Fabric.Fabric.Snapshot().Single(m => m.Cid == 5).Listeners);
    }

    private string[] MachineFiles(uint cid) =>
        Directory.GetFileSystemEntries(Path.Combine(Fabric.Directory, cid.ToString(CultureInfo.InvariantCulture)));
}
