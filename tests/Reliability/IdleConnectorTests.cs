using System.Diagnostics;
using System.Net.Sockets;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Issue #16: 64 connections that sent nothing locked every other connector out of a listener for 5 s (a fixed number
/// of handshake slots held for the whole handshake timeout), and re-opening them kept it unusable (1 legit connect in 36
/// over 20 s). Here 1,000 raw connections that never send a byte are held open — each re-opened as soon as the listener
/// drops it — while legit connects go through, until the listener has dropped (and the attacker re-opened) all 1,000. The test asserts that every legit connect succeeds (within the kernel's
/// default connect timeout, 2 s); the times are figures (docs/reliability.md), not assertions.
/// </summary>
public sealed class IdleConnectorTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    [Fact]
    public async Task IdleConnectors_Thousand_EveryLegitConnectSucceeds()
    {
        const int Idle = 1_000;
        var legit = Sizes.Pick(20, 200);
        using var listener = Fabric.Machine(5).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var port = listener.LocalAddress.Port;
        using var attack = CancellationTokenSource.CreateLinkedTokenSource(Watchdog.Token);
        long opened = 0, dropped = 0;
        var open = 0;

        // One idle connection, for as long as the attack lasts: connect, send nothing, and when the listener drops it
        // (its first-byte bound), connect again.
        async Task HoldAsync()
        {
            while (!attack.IsCancellationRequested)
            {
                using var idle = Fabric.ConnectRaw(5, port);
                Interlocked.Increment(ref opened);
                Interlocked.Increment(ref open);
                try
                {
                    if (await idle.ReceiveAsync(new byte[1], SocketFlags.None, attack.Token) == 0)
                        Interlocked.Increment(ref dropped);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref dropped);
                }
                finally
                {
                    Interlocked.Decrement(ref open);
                }
            }
        }

        var holders = Enumerable.Range(0, Idle).Select(_ => Task.Run(HoldAsync, Watchdog.Token)).ToArray();
        await Watchdog.UntilAsync(() => Volatile.Read(ref open) >= Idle, $"{Idle} idle connections open");

        // Legit connects until the listener has dropped the whole first wave and the attacker has re-opened it: the
        // attack goes on through the listener's first-byte bound, as in the finding (re-opening kept it unusable).
        var times = new List<double>();
        var openDuring = new List<int>();
        for (var i = 0; i < legit || Interlocked.Read(ref dropped) < Idle; i++)
        {
            var accept = listener.AcceptAsync(Watchdog.Token);
            var clock = Stopwatch.StartNew();
            using var client = await Watchdog.Guard(Fabric.Host.ConnectAsync(new VsockAddress(5, port), null, Watchdog.Token));
            times.Add(clock.Elapsed.TotalMilliseconds);
            openDuring.Add(Volatile.Read(ref open));
            using var server = await Watchdog.Guard(accept);
            Assert.Equal(VmciCid.Host, server.RemoteAddress.Cid);
        }
        await attack.CancelAsync();
        await Watchdog.Guard(Task.WhenAll(holders));

        times.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{times.Count}/{times.Count} legit connects succeeded with {openDuring.Min()}..{openDuring.Max()} idle connections open "
            + $"({Interlocked.Read(ref opened)} opened, {Interlocked.Read(ref dropped)} dropped by the listener); "
            + $"connect time median {times[times.Count / 2]:0.0} ms, max {times[^1]:0.0} ms");
        Assert.True(times.Count >= legit);
    }
}
