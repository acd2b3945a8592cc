using Vmci;
using Vmci.TestKit;

namespace VmciSim.Tests;

[CollectionDefinition(nameof(LeakCollection), DisableParallelization = true)]
public sealed class LeakCollection;

/// <summary>Nothing leaks: files in the fabric, file descriptors of the process. Runs alone (fd counts are process-wide).</summary>
[Collection(nameof(LeakCollection))]
public sealed class LeakTests : IDisposable
{
    private readonly TestFabric _fabric = new();
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);

    public void Dispose()
    {
        _watchdog.Dispose();
        _fabric.Dispose();
    }

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    private async Task CycleAsync()
    {
        var host = _fabric.Machine(2);
        using var listener = _fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(5, listener.LocalAddress.Port);
        for (var i = 0; i < 20; i++)
        {
            var (client, server) = await VsockStreams.ConnectPairAsync(host, listener, target, _watchdog.Token);
            await client.SendAsync(new byte[100], _watchdog.Token);
            await server.ReadExactlyAsync(100, _watchdog.Token);
            if (i % 3 == 0)
                client.Abort();
            else
                client.Dispose();
            server.Dispose();
        }
        // Refused and failed connects too.
        await VmciAssert.ThrowsAsync(Errno.ECONNRESET, () => _watchdog.Guard(host.ConnectAsync(target with { Port = target.Port + 1 }, null, _watchdog.Token).AsTask()));
        using (var raw = _fabric.ConnectRaw(5, target.Port))
            raw.Send("garbage\n"u8);
    }

    [Fact]
    public async Task ConnectSendClose_ManyTimes_LeavesNoFilesAndNoFds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        await CycleAsync(); // warm-up: the runtime opens its own descriptors once (epoll, eventfd)
        var files = _fabric.Entries();
        var fds = OpenFds();

        await CycleAsync();

        Assert.Equal(files, _fabric.Entries());
        // The listener's background loop and the refused handshake close asynchronously: poll with a deadline.
        await _watchdog.UntilAsync(() => OpenFds() <= fds, $"the open fds are back to the {fds} before", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_Listener_EndsItsAcceptThread()
    {
        var listener = (Vmci.Sim.Internal.SimListener)_fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        Assert.True(listener.AcceptThread.IsAlive);

        listener.Dispose();

        await _watchdog.UntilAsync(() => !listener.AcceptThread.IsAlive, "the accept thread ended", TimeSpan.FromSeconds(10));
    }
}
