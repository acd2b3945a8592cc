using Vmci.Sim;

namespace Vmci.Reliability;

/// <summary>Figure 3: connect/disconnect cycles leave fds, threads, socket files and the managed heap at their baseline.</summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class CycleTests : IDisposable
{
    private readonly TempFabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public async Task ConnectDisconnect_ManyCycles_ResourcesBackToBaseline()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        var cycles = Sizes.Pick(1_000, 10_000);
        var host = _fabric.Join(VmciCid.Host);
        var guest = _fabric.Join(5);
        // A fault on an unrelated pair keeps the fault path (registry, poll timer) in use throughout.
        _fabric.Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 40) { LatencyMilliseconds = 1 });

        async Task CycleAsync(int count)
        {
            using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var target = new VsockAddress(5, listener.LocalAddress.Port);
            var buffer = new byte[64];
            for (var i = 0; i < count; i++)
            {
                var accept = listener.AcceptAsync(TempFabric.Ct);
                using var client = await host.ConnectAsync(target, null, TempFabric.Ct).Guard();
                using var server = await accept.Guard();
                await client.SendAsync(buffer, TempFabric.Ct).Guard();
                for (var read = 0; read < buffer.Length;)
                    read += await server.ReceiveAsync(buffer.AsMemory(read), TempFabric.Ct).Guard();
                if (i % 2 == 0)
                    client.Abort();
            }
        }

        await CycleAsync(100); // warm-up: the runtime's own descriptors and threads, JIT
        var fds = Resources.OpenFds();
        var described = Resources.DescribeFds();
        var threads = Resources.Threads();
        var files = _fabric.SocketFileCount();
        var heap = Resources.ManagedHeap();

        await CycleAsync(Environment.GetEnvironmentVariable("VMCI_RELIABILITY_CYCLES") is { } c ? int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) : cycles);

        await Poll.UntilAsync(() => Resources.OpenFds() <= fds + 2, $"fds back to {fds} (+2): before {described}; now {Resources.DescribeFds()}", TimeSpan.FromSeconds(10));
        // Leftovers of earlier tests (NetMQ relays closing on their timer) may still be collected: poll with a deadline.
        var heapAfter = 0L;
        await Poll.UntilAsync(() => (heapAfter = Resources.ManagedHeap()) - heap < 2 << 20, $"managed heap back to {heap} bytes (+2 MiB)", TimeSpan.FromSeconds(20));
        var threadsAfter = 0;
        await Poll.UntilAsync(() => (threadsAfter = Resources.Threads()) <= threads + 4, $"threads back to {threads} (+4)", TimeSpan.FromSeconds(20));
        Assert.Equal(files, _fabric.SocketFileCount());
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{cycles} cycles: fds {fds} -> {Resources.OpenFds()}, threads {threads} -> {threadsAfter}, socket files {files} -> {_fabric.SocketFileCount()}, heap {heap / 1024} KiB -> {heapAfter / 1024} KiB");
    }
}
