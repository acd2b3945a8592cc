using Vmci;
using Vmci.TestKit;

namespace VmciSim.Tests;

[CollectionDefinition(nameof(LeakCollection), DisableParallelization = true)]
public sealed class LeakCollection;

/// <summary>Nothing leaks: files in the fabric, file descriptors of the process. Runs alone (fd counts are process-wide).</summary>
[Collection(nameof(LeakCollection))]
public sealed class LeakTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    private async Task CycleAsync()
    {
        var host = Fabric.Machine(2);
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(5, listener.LocalAddress.Port);
        for (var i = 0; i < 20; i++)
        {
            var (client, server) = await VsockStreams.ConnectPairAsync(host, listener, target, Watchdog.Token);
            await client.SendAsync(new byte[100], Watchdog.Token);
            await server.ReadExactlyAsync(100, Watchdog.Token);
            if (i % 3 == 0)
                client.Abort();
            else
                client.Dispose();
            server.Dispose();
        }
        // Refused and failed connects too.
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => Watchdog.Guard(host.ConnectAsync(target with { Port = target.Port + 1 }, null, Watchdog.Token)));
        using (var raw = Fabric.ConnectRaw(5, target.Port))
            raw.Send("garbage\n"u8);
    }

    [Fact]
    public async Task ConnectSendClose_ManyTimes_LeavesNoFilesAndNoFds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        await CycleAsync(); // warm-up: the runtime opens its own descriptors once (epoll, eventfd)
        var files = Fabric.Entries();
        var fds = OpenFds();

        await CycleAsync();

        Assert.Equal(files, Fabric.Entries());
        // The listener's background loop and the refused handshake close asynchronously: poll with a deadline.
        await Watchdog.UntilAsync(() => OpenFds() <= fds, $"the open fds are back to the {fds} before", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_Listener_EndsItsAcceptThread()
    {
        var listener = (Vmci.Sim.Internal.SimListener)Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        Assert.True(listener.AcceptThread.IsAlive);

        listener.Dispose();

        await Watchdog.UntilAsync(() => !listener.AcceptThread.IsAlive, "the accept thread ended", TimeSpan.FromSeconds(10));
    }
}
