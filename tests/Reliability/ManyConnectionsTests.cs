using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Figure 4: many concurrent connections across many CIDs, on the seam directly (SimNetwork connections, no NetMQ):
/// sequence-numbered, checksummed messages; 0 lost, 0 duplicated, 0 corrupted.
/// </summary>
public sealed class ManyConnectionsTests() : FabricTestBase(new TestFabric(), Sizes.StartWatchdog())
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ManyConnections_SequencedChecksummed_NoneLostDuplicatedOrCorrupted(bool withFaults)
    {
        var connections = Sizes.Pick(100, 1_000);
        var cids = Sizes.Pick(10, 50);
        var messages = Sizes.Pick(100_000, 1_000_000);
        if (withFaults)
        {
            // The fault path on every connection: jittered latency on some CIDs, a bandwidth cap on others.
            connections /= 2;
            messages /= 10;
            Fabric.Faults.Add(new SimFault(SimFaultKind.Latency, 3) { LatencyMilliseconds = 2, JitterMilliseconds = 2 });
            Fabric.Faults.Add(new SimFault(SimFaultKind.Bandwidth, 4) { BytesPerSecond = 4 << 20 });
        }
        var host = Fabric.Machine(VmciCid.Host);
        var listeners = Enumerable.Range(0, cids).Select(i => Fabric.Machine((uint)(3 + i)).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any))).ToArray();
        var perConnection = messages / connections;
        long delivered = 0, corrupted = 0, outOfOrder = 0;
        try
        {
            var pairs = new List<Task>();
            for (var c = 0; c < connections; c++)
            {
                var listener = listeners[c % cids];
                var accept = listener.AcceptAsync(Watchdog.Token);
                var client = await Watchdog.Guard(host.ConnectAsync(new VsockAddress((uint)(3 + (c % cids)), listener.LocalAddress.Port), null, Watchdog.Token));
                var server = await Watchdog.Guard(accept);
                var seed = c;
                pairs.Add(Task.Run(async () =>
                {
                    using (client)
                    using (server)
                    {
                        var send = Task.Run(async () =>
                        {
                            var random = new Random(seed);
                            for (var i = 0; i < perConnection; i++)
                                await client.SendAsync(Framing.Make((ulong)i, random.Next(0, 256), random), Watchdog.Token);
                            client.ShutdownSend();
                        });
                        var (count, bad, disorder) = await ReceiveAllAsync(server);
                        await send;
                        Interlocked.Add(ref delivered, count);
                        Interlocked.Add(ref corrupted, bad);
                        Interlocked.Add(ref outOfOrder, disorder);
                    }
                }, Watchdog.Token));
            }
            await Watchdog.Guard(Task.WhenAll(pairs));
        }
        finally
        {
            foreach (var l in listeners)
                l.Dispose();
        }

        Assert.Equal(0, corrupted);
        Assert.Equal(0, outOfOrder);
        Assert.Equal((long)perConnection * connections, delivered);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{connections} connections across {cids} CIDs{(withFaults ? " (latency + bandwidth faults)" : "")}: {delivered} messages sent and delivered, 0 lost, 0 duplicated, {corrupted} corrupted");
    }

    /// <summary>Reads framed messages until end of stream: how many, how many failed the checksum, how many out of sequence.</summary>
    private async Task<(long Count, long Corrupted, long OutOfOrder)> ReceiveAllAsync(IVsockConnection server)
    {
        var buffer = new byte[64 * 1024];
        int filled = 0;
        long count = 0, corrupted = 0, outOfOrder = 0;
        ulong expected = 0;
        while (true)
        {
            var n = await server.ReceiveAsync(buffer.AsMemory(filled), Watchdog.Token);
            if (n == 0)
                break;
            filled += n;
            var offset = 0;
            while (filled - offset >= Framing.Header)
            {
                var length = BitConverter.ToInt32(buffer, offset + 8);
                var total = Framing.Header + length + Framing.Trailer;
                if (length < 0 || total > buffer.Length)
                    return (count, corrupted + 1, outOfOrder);
                if (filled - offset < total)
                    break;
                if (Framing.Check(buffer.AsSpan(offset, total)) is not { } seq)
                    corrupted++;
                else if (seq != expected++)
                    outOfOrder++;
                count++;
                offset += total;
            }
            Buffer.BlockCopy(buffer, offset, buffer, 0, filled - offset);
            filled -= offset;
        }
        return (count, corrupted + (filled != 0 ? 1 : 0), outOfOrder);
    }
}
