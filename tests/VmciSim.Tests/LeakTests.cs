using Vmci;

namespace VmciSim.Tests;

[CollectionDefinition(nameof(LeakCollection), DisableParallelization = true)]
public sealed class LeakCollection;

/// <summary>Nothing leaks: files in the fabric, file descriptors of the process. Runs alone (fd counts are process-wide).</summary>
[Collection(nameof(LeakCollection))]
public sealed class LeakTests : IDisposable
{
    private readonly TempFabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    private async Task CycleAsync()
    {
        var host = _fabric.Join(2);
        using var listener = _fabric.Join(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var target = new VsockAddress(5, listener.LocalAddress.Port);
        for (var i = 0; i < 20; i++)
        {
            var (client, server) = await Sim.ConnectPairAsync(host, listener, target);
            await client.SendAsync(new byte[100], TempFabric.Ct);
            await Sim.ReadExactlyAsync(server, 100);
            if (i % 3 == 0)
                client.Abort();
            else
                client.Dispose();
            server.Dispose();
        }
        // Refused and failed connects too.
        await Sim.ThrowsErrnoAsync(Errno.ECONNRESET, () => host.ConnectAsync(target with { Port = target.Port + 1 }, null, TempFabric.Ct).AsTask());
        using (var raw = _fabric.RawConnect(5, target.Port))
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
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (OpenFds() > fds && DateTime.UtcNow < deadline)
            await Task.Delay(20, TempFabric.Ct);
        Assert.True(OpenFds() <= fds, $"fds: {fds} before, {OpenFds()} after");
    }

    [Fact]
    public async Task Dispose_Listener_EndsItsAcceptThread()
    {
        var listener = (Vmci.Sim.Internal.SimListener)_fabric.Join(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        Assert.True(listener.AcceptThread.IsAlive);

        listener.Dispose();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (listener.AcceptThread.IsAlive && DateTime.UtcNow < deadline)
            await Task.Delay(10, TempFabric.Ct);
        Assert.False(listener.AcceptThread.IsAlive);
    }
}
