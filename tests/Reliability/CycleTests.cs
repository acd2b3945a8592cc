using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>Figure 3: connect/disconnect cycles leave fds, threads, socket files and the managed heap at their baseline.</summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class CycleTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    /// <summary>Listener socket files and their .bound companions: the files in the machines' directories.</summary>
    private int SocketFiles() => Fabric.Entries().Count(e => e.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) && !Directory.Exists(Path.Combine(Fabric.Directory, e)));

    [Fact]
    public async Task ConnectDisconnect_ManyCycles_ResourcesBackToBaseline()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        var cycles = Sizes.Pick(1_000, 10_000);
        var host = Fabric.Machine(VmciCid.Host);
        var guest = Fabric.Machine(5);
        // A fault on an unrelated pair keeps the fault path (registry, poll timer) in use throughout.
        Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 40) { LatencyMilliseconds = 1 });

        async Task CycleAsync(int count)
        {
            using var listener = guest.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var target = new VsockAddress(5, listener.LocalAddress.Port);
            var buffer = new byte[64];
            for (var i = 0; i < count; i++)
            {
                var accept = listener.AcceptAsync(Watchdog.Token);
                using var client = await Watchdog.Guard(host.ConnectAsync(target, null, Watchdog.Token));
                using var server = await Watchdog.Guard(accept);
                await Watchdog.Guard(client.SendAsync(buffer, Watchdog.Token));
                for (var read = 0; read < buffer.Length;)
                    read += await Watchdog.Guard(server.ReceiveAsync(buffer.AsMemory(read), Watchdog.Token));
                if (i % 2 == 0)
                    client.Abort();
            }
        }

        await CycleAsync(100); // warm-up: the runtime's own descriptors and threads, JIT
        var fds = Resources.OpenFds();
        var described = Resources.DescribeFds();
        var threads = Resources.Threads();
        var files = SocketFiles();
        var heap = Resources.ManagedHeap();

        await CycleAsync(Environment.GetEnvironmentVariable("VMCI_RELIABILITY_CYCLES") is { } c ? int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) : cycles);

        await Watchdog.UntilAsync(() => Resources.OpenFds() <= fds + 2, $"fds back to {fds} (+2): before {described}; now {Resources.DescribeFds()}", TimeSpan.FromSeconds(10));
        // Leftovers of earlier tests (NetMQ relays closing on their timer) may still be collected: poll with a deadline.
        var heapAfter = 0L;
        await Watchdog.UntilAsync(() => (heapAfter = Resources.ManagedHeap()) - heap < 2 << 20, $"managed heap back to {heap} bytes (+2 MiB)", TimeSpan.FromSeconds(20));
        var threadsAfter = 0;
        await Watchdog.UntilAsync(() => (threadsAfter = Resources.Threads()) <= threads + 4, $"threads back to {threads} (+4)", TimeSpan.FromSeconds(20));
        Assert.Equal(files, SocketFiles());
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{cycles} cycles: fds {fds} -> {Resources.OpenFds()}, threads {threads} -> {threadsAfter}, socket files {files} -> {SocketFiles()}, heap {heap / 1024} KiB -> {heapAfter / 1024} KiB");
    }
}
