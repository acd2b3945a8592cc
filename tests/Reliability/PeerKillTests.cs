using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>Figure 2: the peer process is killed (SIGKILL) in the middle of a large message; the survivor reconnects when it returns.</summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class PeerKillTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    [Fact]
    public async Task EchoPeer_KilledMidMessageAndRestarted_SurvivorReconnects_NoHangNoLeak()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        var kills = Sizes.Pick(3, 20);
        var host = Fabric.Machine(Sim.VmciCid2);
        var baselineFds = -1;
        var described = "";
        var large = new byte[8 << 20];
        Random.Shared.NextBytes(large);
        uint? port = null;
        var retries = 0;

        for (var round = 0; round < kills; round++)
        {
            using (var child = EchoPeer.Start(Fabric, 5, port))
            {
                port ??= await EchoPeer.ReadPortAsync(child, Watchdog.Token);
                if (round > 0)
                    Assert.Equal(port, await EchoPeer.ReadPortAsync(child, Watchdog.Token)); // the stale socket file was reclaimed
                using var req = new RequestSocket();
                req.Options.Linger = TimeSpan.Zero;
                req.VmciOptions().Network = host;
                req.VmciConnect($"vmci://5:{port}");
                // A small round trip first (the peer is up), then 8 MiB, and the peer dies while it is in flight.
                retries += await LazyPirateAsync(req, host, port.Value, "hello"u8.ToArray());
                req.SendFrame(large);
                child.Kill();
            }
            Assert.False(SocketAlive(port!.Value), "the dead peer's socket file still answers");
            if (round == 0)
            {
                // Baseline after one whole round: NetMQ's context (its I/O thread, epoll, pipes) lives for the process.
                baselineFds = Resources.OpenFds();
                described = Resources.DescribeFds();
            }
        }

        // The peer returns once more; a fresh client gets answers (lazy pirate covers the restart window).
        using (var child = EchoPeer.Start(Fabric, 5, port))
        {
            Assert.Equal(port, await EchoPeer.ReadPortAsync(child, Watchdog.Token));
            using var req = new RequestSocket();
            req.Options.Linger = TimeSpan.Zero;
            req.VmciOptions().Network = host;
            req.VmciConnect($"vmci://5:{port}");
            retries += await LazyPirateAsync(req, host, port!.Value, large);
        }

        await Watchdog.UntilAsync(() => Resources.OpenFds() <= baselineFds + 2, $"fds back to {baselineFds} (+2): before {described}; now {Resources.DescribeFds()}", TimeSpan.FromSeconds(20));
        TestContext.Current.TestOutputHelper?.WriteLine($"peer killed mid-message {kills} times, survivor reconnected each time ({retries} retries); fds {baselineFds} -> {Resources.OpenFds()}");
    }

    private bool SocketAlive(uint port)
    {
        try
        {
            using var s = Fabric.ConnectRaw(5, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends and waits for the echo, recreating the REQ socket after each timeout; returns the number of retries.</summary>
    private Task<int> LazyPirateAsync(RequestSocket first, IVsockNetwork network, uint port, byte[] request) => Watchdog.Guard(Task.Run(() =>
    {
        var req = first;
        for (var retry = 0; ; retry++)
        {
            req.SendFrame(request);
            if (req.TryReceiveFrameBytes(TimeSpan.FromSeconds(2), out var reply))
            {
                Assert.Equal(request, reply);
                if (!ReferenceEquals(req, first))
                    req.Dispose();
                return retry;
            }
            Assert.True(retry < 20, "no answer after 20 retries");
            if (!ReferenceEquals(req, first))
                req.Dispose();
            req = new RequestSocket();
            req.Options.Linger = TimeSpan.Zero;
            req.VmciOptions().Network = network;
            req.VmciConnect($"vmci://5:{port}");
        }
    }, Watchdog.Token));
}

/// <summary>Tests that count process-wide resources (fds, threads, heap) or start processes run alone.</summary>
[CollectionDefinition(nameof(ProcessWideCollection), DisableParallelization = true)]
public sealed class ProcessWideCollection;

internal static class Sim
{
    public const uint VmciCid2 = VmciCid.Host;
}
